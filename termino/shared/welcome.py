"""The hand-over from signup (platform) to the new business's login page.

The login name travels as an opaque one-time token kept in the business's own cache, so it appears
neither in the URL nor in any server log.
"""

import secrets

from django.core.cache import cache
from django_tenants.utils import schema_context

TOKEN_TTL = 15 * 60


def welcome_token_issue(*, schema_name: str, username: str) -> str:
    token = secrets.token_urlsafe(16)
    with schema_context(schema_name):
        cache.set(f"welcome:{token}", username, TOKEN_TTL)
    return token


def welcome_token_redeem(token: str) -> str | None:
    """The login name for `token`, once. The caller is in the business's schema."""
    if not token or len(token) > 64:
        return None
    key = f"welcome:{token}"
    username = cache.get(key)
    if username:
        cache.delete(key)
    return username
