"""Signup → backoffice without typing the password twice: a one-time pass (models.SignInHandover).

Issued on the platform host inside the new business's schema, redeemed at the business's own host by a
GET that logs in and redirects at once (so the token leaves the address bar straight away). The token
is 256 random bits, lives VALID_FOR (a minute: the redirect follows immediately), works once, and only
in the schema it was made in. Request logs name the route, never the path, so it is in no log line.
"""

import secrets

from django.db import connection, transaction

from termino.shared import timeutils

from .models import SignInHandover, User

TOKEN_MAX_LENGTH = 100


def handover_issue(*, user: User) -> str:
    """A token that logs `user` in once at the business's host; the caller is in the business's schema."""
    now = timeutils.now()
    SignInHandover.objects.filter(expires_at__lte=now).delete()  # unredeemed leftovers of closed tabs
    token = secrets.token_urlsafe(32)
    SignInHandover.objects.create(
        token_hash=SignInHandover.hash_token(token, schema_name=connection.schema_name),
        user=user,
        created_at=now,
        expires_at=timeutils.shift(now, SignInHandover.VALID_FOR),
    )
    return token


@transaction.atomic
def handover_redeem(token: str) -> User | None:
    """The active user the token stands for, once and in time; None for anything else (unknown, used,
    expired, of another business). The DELETE is the one-time guard: of two racing requests one wins."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    token_hash = SignInHandover.hash_token(token, schema_name=connection.schema_name)
    row = SignInHandover.objects.select_for_update().filter(token_hash=token_hash).first()
    if row is None:
        return None
    row.delete()
    if row.expires_at <= timeutils.now():
        return None
    return User.objects.filter(pk=row.user_id, is_active=True).first()
