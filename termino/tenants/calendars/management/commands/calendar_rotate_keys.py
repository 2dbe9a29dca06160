"""Re-encrypt one business's calendar secrets under the first CALENDAR_ENCRYPTION_KEYS key.

Run for every business with django-tenants' wrapper, after putting the new key first (older keys stay
after it until this has run everywhere): `manage.py all_tenants_command calendar_rotate_keys`.
"""

from django.core.management.base import BaseCommand

from termino.tenants.calendars.services import secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt this business's CalDAV passwords and feed tokens under the first key."

    def handle(self, *args, **options):
        count = secrets_reencrypt()
        self.stdout.write(f"{count} secrets re-encrypted")
