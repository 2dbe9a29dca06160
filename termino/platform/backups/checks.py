"""Deploy check: the key that encrypts stored business exports is set in production.

Without BACKUP_ENCRYPTION_KEYS the key is derived from SECRET_KEY (crypto.keys), which is fine on a
developer's machine; in production a rotated SECRET_KEY would leave every stored export unreadable.
`manage.py check --deploy` says so, as it does for the calendar key.
"""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def backup_keys_set(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if (getattr(settings, "BACKUP_ENCRYPTION_KEYS", "") or "").strip():
        return []
    return [
        checks.Warning(
            "BACKUP_ENCRYPTION_KEYS is empty, so stored business exports are encrypted with a key derived "
            "from SECRET_KEY: rotating SECRET_KEY would make them unreadable.",
            hint="Set BACKUP_ENCRYPTION_KEYS to a key of its own (python manage.py backup_key).",
            id="termino.backups.W001",
        )
    ]
