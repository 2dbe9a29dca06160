import time

from django.conf import settings
from django.core.management.base import BaseCommand

from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.platform.tenancy.services import schema_pool_fill


class Command(BaseCommand):
    help = "Top up the warm pool of migrated spare schemas that signups claim instantly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", type=int, default=settings.SCHEMA_POOL_SIZE, help="spares to keep ready"
        )

    def handle(self, *args, size: int, **options):
        # A Citus coordinator without the settings it needs fails here, before the first statement.
        self.check(tags=["citus"], databases=["default"])
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  spare schema {done}/{total} ready ({time.monotonic() - started:.1f} s)")

        made = schema_pool_fill(size=size, progress=progress)
        ready = Tenant.objects.filter(status=TenantStatus.SPARE).count()
        self.stdout.write(self.style.SUCCESS(f"Schema pool: {ready} spare schema(s) ready, {made} new."))
