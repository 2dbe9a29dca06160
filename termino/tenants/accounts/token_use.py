"""A staff API request's token: found (remembered, or read) and its use recorded, in one round trip at most.

A token this process remembers (token_memory) costs no statement, except the once-a-minute record of its
last use. One it does not remember, because its business was last served minutes ago, is read with its user
and marked used by the same statement: reading and recording were two round trips, and a business with
sparse traffic paid both on nearly every request.
"""

import functools

from django.db import connection
from django.db.models import Q

from termino.shared import timeutils
from termino.shared.db import prepared

from . import token_memory
from .models import ApiToken, User

# Where last_used_at sits in a token's row as the statement loads it.
_LAST_USED_INDEX = [field.attname for field in ApiToken._meta.concrete_fields].index("last_used_at")


def use(key: str) -> ApiToken | None:
    """The token a request presents, with its user; None for an unknown (or revoked) key. A valid token
    (not expired, its user active) is marked used, at most once per ApiToken.LAST_USED_PRECISION."""
    if not key.startswith(ApiToken.PREFIX) or len(key) > 200:
        return None
    sql, token_fields, user_fields = _statement()
    hashed = ApiToken.hash_key(key)
    rows = token_memory.recall(hashed)
    marked = False
    if rows is None:
        now = timeutils.now()
        row = prepared.fetchone(sql, [now, hashed, _stale(now), now, hashed])
        if row is None:
            return None  # unknown keys are not remembered: a new token must work at once
        *row, marked = row
        rows = (tuple(row[: len(token_fields)]), tuple(row[len(token_fields) :]))
        if marked:  # the row was read as it was before the statement marked it
            rows = (_with_last_use(rows[0], now), rows[1])
        token_memory.remember(hashed, rows)
    # Fresh objects every time: a request may change its user, and that must not reach the next one.
    token = ApiToken.from_db(connection.alias, token_fields, rows[0])
    user = User.from_db(connection.alias, user_fields, rows[1])
    ApiToken.user.field.set_cached_value(token, user)
    if not marked and not token.is_expired and user.is_active:
        touch(token=token)
    return token


def touch(*, token: ApiToken) -> bool:
    """Record that the token was used now, at most once per LAST_USED_PRECISION (a minute): one UPDATE
    a minute at most, and none when the token was used a moment ago. Returns whether it wrote."""
    now = timeutils.now()
    stale = _stale(now)
    if token.last_used_at is not None and token.last_used_at > stale:
        return False
    # Conditional: of several requests in the same moment, one writes.
    written = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
        .update(last_used_at=now)
    )
    # Written here or by a request a moment ago: either way it was used now, and this process need not try
    # again for a minute.
    token.last_used_at = now
    token_memory.used(token.token_hash, _LAST_USED_INDEX, now)
    return bool(written)


def _stale(now):
    return timeutils.shift(now, -ApiToken.LAST_USED_PRECISION)


def _with_last_use(token_row: tuple, at) -> tuple:
    return (*token_row[:_LAST_USED_INDEX], at, *token_row[_LAST_USED_INDEX + 1 :])


@functools.cache
def _statement() -> tuple[str, list[str], list[str]]:
    """The ORM's own statement for a token and its user, compiled once per process (every staff API request
    presents a token, and compiling the query cost more than running it), behind an UPDATE that marks a
    valid token used when its last use is older than the precision, in the same round trip. Parameters:
    now, hash, stale, now, hash. The last column says whether the UPDATE marked it. Prepared
    (prepared.fetchone): a business whose tokens are read afresh often has a statement of its own, planned
    once per connection."""
    # Without the model's ordering: the hash is unique, and sorting one row still cost a Sort node.
    query = ApiToken.objects.select_related("user").filter(token_hash="").order_by().query
    select, params = query.get_compiler(connection.alias).as_sql()
    assert params == ("",), params  # the one parameter is the hash
    fields = (ApiToken._meta.concrete_fields, User._meta.concrete_fields)
    # Rows are handed to from_db as psycopg returns them: no field may need a converter (JSON, say).
    assert not any(field.get_db_converters(connection) for group in fields for field in group)
    token, user = (model._meta.db_table for model in (ApiToken, User))
    # The business's tables by name; each keeps its own name as the alias the columns refer to.
    for plain, named in ((f'FROM "{token}"', f"FROM {prepared.table(ApiToken)}"),
                         (f'JOIN "{user}"', f"JOIN {prepared.table(User)}")):  # fmt: skip
        assert select.count(plain) == 1, select
        select = select.replace(plain, named)
    # A data-modifying WITH runs once, whatever reads it; the SELECT sees the row as it was before.
    sql = (
        f'WITH marked AS (UPDATE {prepared.table(ApiToken)} SET "last_used_at" = %s'
        f' WHERE "token_hash" = %s AND ("last_used_at" IS NULL OR "last_used_at" <= %s) AND "expires_at" > %s'
        f' AND EXISTS (SELECT 1 FROM {prepared.table(User)} WHERE "{user}"."id" = "{token}"."user_id"'
        f' AND "{user}"."is_active") RETURNING 1)'
        f" SELECT found.*, EXISTS (SELECT 1 FROM marked) FROM ({select}) found"
    )
    return sql, *([field.attname for field in group] for group in fields)
