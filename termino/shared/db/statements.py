"""What a statement needs under transaction pooling: the schema set in front, nothing, or refusing it.

Only the statement's first words are looked at (plus, for the few commands whose meaning depends on a
later keyword, that keyword), so the common case costs one short regular expression match.
"""

import enum
import re


class Kind(enum.Enum):
    # Runs with `SET LOCAL search_path = …;` in front, in the same transaction.
    SCHEMA_LOCAL = "schema-local"
    # BEGIN, COMMIT, SAVEPOINT, ROLLBACK TO …: sent as they are. After an error only ROLLBACK [TO] may
    # run, and a SET in front of it would fail with "current transaction is aborted".
    TRANSACTION_CONTROL = "transaction-control"
    # VACUUM, CREATE INDEX CONCURRENTLY, CREATE DATABASE …: PostgreSQL refuses them inside a transaction
    # block, and a multi-statement query is one. They cannot carry the schema.
    OUTSIDE_TRANSACTION = "outside-transaction"
    # SET (not LOCAL), RESET, LISTEN, PREPARE, CREATE TEMP …: state that outlives the transaction and stays
    # on a server connection that the pooler hands to other clients next.
    SESSION_STATE = "session-state"


# Whitespace and comments before the first keyword.
_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
# The ORM's statements, decided by the first word alone.
_PLAIN = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "TABLE", "MERGE", "COPY"})
_CONTROL = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"})

_OUTSIDE = re.compile(
    r"""(?:
        VACUUM\b
      | (?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE)\b
      | ALTER\s+SYSTEM\b
      | ALTER\s+DATABASE\b.*\bSET\s+TABLESPACE\b
      | DISCARD\s+ALL\b
      | CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b
      | DROP\s+INDEX\s+CONCURRENTLY\b
      | REINDEX\b.*\bCONCURRENTLY\b
      | REINDEX\s+(?:\([^)]*\)\s*)?(?:SCHEMA|DATABASE|SYSTEM)\b
      | CLUSTER\s*(?:\([^)]*\)\s*)?(?:VERBOSE\s*)?;?\s*\Z
      | ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY\b
      | (?:CREATE|ALTER|DROP)\s+SUBSCRIPTION\b
      | (?:COMMIT|ROLLBACK)\s+PREPARED\b
    )""",
    re.I | re.S | re.X,
)
_SESSION = re.compile(
    r"""(?:
        SET\s++(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)  # possessive: no backtracking into the blanks
      | RESET\b
      | (?:UN)?LISTEN\b
      | PREPARE\s++(?!TRANSACTION\b)
      | DEALLOCATE\b
      | CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\b
      | DECLARE\b.*\bWITH\s+HOLD\b
    )""",
    re.I | re.S | re.X,
)


def statement_kind(sql: str) -> Kind:
    start = _LEAD.match(sql).end()
    first = _FIRST_WORD.match(sql, start)
    word = first.group().upper() if first else ""
    if word in _PLAIN:
        return Kind.SCHEMA_LOCAL
    if _OUTSIDE.match(sql, start):  # before _CONTROL: COMMIT PREPARED cannot run in a transaction
        return Kind.OUTSIDE_TRANSACTION
    if word in _CONTROL:
        return Kind.TRANSACTION_CONTROL
    if word == "PREPARE" and re.match(r"PREPARE\s+TRANSACTION\b", sql[start:], re.I):
        return Kind.TRANSACTION_CONTROL
    if _SESSION.match(sql, start):
        return Kind.SESSION_STATE
    return Kind.SCHEMA_LOCAL
