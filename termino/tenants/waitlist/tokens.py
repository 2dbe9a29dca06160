"""The secrets in a waitlist link: 256 random bits, only a SHA-256 keyed with the schema name stored (a copied
row is void at any other business, and the database never holds a usable link)."""

import hashlib
import secrets

from django.db import connection


def new_token() -> tuple[str, str]:
    """(token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(f"{connection.schema_name}\x1f{token}".encode()).hexdigest()
