from django.core.management.base import BaseCommand

from termino.platform.backups.crypto import new_key


class Command(BaseCommand):
    help = "Print a new key for BACKUP_ENCRYPTION_KEYS (put it first; keep older keys after it for reading)."

    def handle(self, *args, **options):
        self.stdout.write(new_key())
