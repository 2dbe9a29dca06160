"""Secrets of calendar connections at rest: Fernet (AES-128-CBC + HMAC) with keys from the settings.

`CALENDAR_ENCRYPTION_KEYS`: Fernet keys (URL-safe base64 of 32 bytes), comma-separated; the first encrypts,
all decrypt (MultiFernet), so a key is rotated by putting a new one first and re-encrypting
(`manage.py all_tenants_command calendar_rotate_keys`). Empty: one key derived from SECRET_KEY (development).
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection


def _fernet() -> MultiFernet:
    configured = [k.strip() for k in (getattr(settings, "CALENDAR_ENCRYPTION_KEYS", "") or "").split(",")]
    keys = []
    for text in filter(None, configured):
        try:
            keys.append(Fernet(text))
        except ValueError as exc:
            raise ImproperlyConfigured(
                "CALENDAR_ENCRYPTION_KEYS holds a key that is not a Fernet key"
            ) from exc
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"termino calendar secrets")
        keys.append(Fernet(base64.urlsafe_b64encode(derived.derive(settings.SECRET_KEY.encode()))))
    return MultiFernet(keys)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text; ValueError when no configured key opens it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted with a key that is not in CALENDAR_ENCRYPTION_KEYS") from exc


def reencrypt(token: str) -> str:
    """The same secret under the first key (key rotation)."""
    return _fernet().rotate(token.encode()).decode()


def token_digest(token: str) -> str:
    """How a feed token is found: SHA-256 keyed with the schema, so a copied row is void at any other
    business, and nothing stored reveals the token (256 random bits need no slow hash)."""
    key = f"calendar-feed|{connection.schema_name}".encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
