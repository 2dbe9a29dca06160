from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import schema_context

from termino.platform.tenancy.selectors import live_business_schemas
from termino.tenants.notifications.services import outbox_after_database_restore


class Command(BaseCommand):
    help = (
        "Run once after the whole database was restored to an earlier time, before the workers start: "
        "no message is sent twice. Unsent SMS are looked up at the provider before they go; e-mails that "
        "were due before the old database stopped serving are marked failed with a reason to check and "
        "resend."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--served-until",
            required=True,
            help="when the old database stopped serving (ISO 8601 with offset, e.g. 2027-01-13T10:42+01:00)",
        )

    def handle(self, *args, served_until: str, **options):
        try:
            until = datetime.fromisoformat(served_until)
        except ValueError as exc:
            raise CommandError(f"--served-until: not an ISO 8601 time: {served_until!r}") from exc
        if until.tzinfo is None:
            raise CommandError("--served-until needs a UTC offset, e.g. +01:00")
        totals = {"sms_checked_first": 0, "emails_failed": 0}
        for schema in live_business_schemas():
            with schema_context(schema):
                for key, value in outbox_after_database_restore(served_until=until).items():
                    totals[key] += value
        connection.set_schema_to_public()
        self.stdout.write(
            f"{totals['sms_checked_first']} unsent SMS will be looked up at the provider before sending; "
            f"{totals['emails_failed']} e-mail(s) marked failed (check and resend from the message log)."
        )
