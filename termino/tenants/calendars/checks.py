"""Deploy check: the key that encrypts stored CalDAV passwords and feed addresses is set in production.

Without CALENDAR_ENCRYPTION_KEYS the key is derived from SECRET_KEY, which is fine on a developer's
machine; in production a rotated SECRET_KEY would then leave every stored calendar password unreadable
(each connection would have to be entered again) and mix two secrets that are rotated for different
reasons. `manage.py check --deploy` says so.
"""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def calendar_keys_set(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if (getattr(settings, "CALENDAR_ENCRYPTION_KEYS", "") or "").strip():
        return []
    return [
        checks.Warning(
            "CALENDAR_ENCRYPTION_KEYS is empty, so stored CalDAV passwords and feed addresses are encrypted "
            "with a key derived from SECRET_KEY: rotating SECRET_KEY would make them unreadable.",
            hint="Set CALENDAR_ENCRYPTION_KEYS to a Fernet key "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").',
            id="termino.calendars.W001",
        )
    ]
