import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from termino.platform.tenancy.demo import DEMO_LOGINS, DEMO_SLUG, DEMO_STAFF, demo_signup
from termino.platform.tenancy.models import Tenant
from termino.platform.tenancy.services import tenant_provision
from termino.tenants.demo import demo_business_fill


class Command(BaseCommand):
    help = "Create the demo business (once) and a platform superadmin, and write their logins to .run/."

    def add_arguments(self, parser):
        parser.add_argument("--logins-file", default=str(settings.BASE_DIR / ".run" / "demo-logins.json"))

    def handle(self, *args, logins_file: str, **options):
        self._superadmin()
        if Tenant.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write(f"Demo business '{DEMO_SLUG}' exists already; left as it is.")
        else:
            with transaction.atomic():
                tenant = tenant_provision(signup=demo_signup())
                with schema_context(tenant.schema_name):
                    counts = demo_business_fill(
                        time_zone=tenant.time_zone, staff_password=DEMO_STAFF["password"]
                    )
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo business '{}' created: {}.".format(
                        DEMO_SLUG, ", ".join(f"{n} {k}" for k, n in counts.items())
                    )
                )
            )
        path = Path(logins_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(DEMO_LOGINS, indent=2))

    def _superadmin(self) -> None:
        login = DEMO_LOGINS[-1]
        User = get_user_model()
        if not User.objects.filter(username=login["username"]).exists():
            User.objects.create_superuser(username=login["username"], email="", password=login["password"])
            self.stdout.write(f"Platform superadmin '{login['username']}' created.")
