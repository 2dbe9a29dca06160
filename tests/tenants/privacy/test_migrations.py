"""Privacy migration 0001 sends its trigger SQL one statement per command now (for Citus, see
tests/test_citus_rules.py). Schemas migrated before the split ran the same SQL as one command: they must
be exactly like schemas migrated now, so they need no new migration, and the new reverse SQL must undo them.
"""

import importlib
import secrets

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations import RunSQL

from tests.platform.tenancy.schema_inspection import fingerprint

from . import migration_0001_before_split as before

# Everything below runs in the test's transaction, rolled back afterwards: schemas and all.
pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("termino.tenants.privacy.migrations.0001_initial").Migration


class Sent:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql)
        return execute(sql, params, many, context)


def migrated_schema(*, old_way: bool = False, monkeypatch=None) -> tuple[str, list[str]]:
    """A new schema with every business migration applied; privacy 0001 as it was before the split if
    `old_way`. Returns the schema and the statements sent for the append-only guard."""
    if old_way:
        (operation,) = [op for op in MIGRATION.operations if isinstance(op, RunSQL)]
        monkeypatch.setattr(operation, "sql", before.APPEND_ONLY_SQL)
        monkeypatch.setattr(operation, "reverse_sql", before.APPEND_ONLY_REVERSE_SQL)
    name = "ref_" + secrets.token_hex(4)
    sent = Sent()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        with connection.execute_wrapper(sent):
            call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()
        if old_way:
            monkeypatch.undo()
    return name, [sql for sql in sent.statements if "privacy_event_append_only" in sql]


def test_a_schema_migrated_before_the_split_is_the_same_as_one_migrated_now(monkeypatch):
    new, new_sent = migrated_schema()
    old, old_sent = migrated_schema(old_way=True, monkeypatch=monkeypatch)
    # Really migrated two ways: the old text went as one command, the new one statement per command.
    assert old_sent == [before.APPEND_ONLY_SQL]
    assert [sql.split()[:3] for sql in new_sent] == [
        ["CREATE", "FUNCTION", "privacy_event_append_only()"],
        ["CREATE", "TRIGGER", "privacy_event_append_only"],
    ]
    # Tables, constraints, indexes, sequences, the trigger's and the function's full definitions, and the
    # recorded migrations: equal.
    expected = fingerprint(new)
    assert [row[1] for row in expected["triggers"]] == ["privacy_event_append_only"]
    assert [row[0] for row in expected["functions"]] == ["privacy_event_append_only"]
    assert fingerprint(old) == expected


def test_the_split_reverse_sql_undoes_a_schema_migrated_before_the_split(monkeypatch):
    old, _ = migrated_schema(old_way=True, monkeypatch=monkeypatch)
    reference, _ = migrated_schema()
    try:
        call_command("migrate_schemas", "privacy", "zero", schema_name=old, interactive=False, verbosity=0)
        gone = fingerprint(old)
        assert gone["triggers"] == [] and gone["functions"] == []
        call_command("migrate_schemas", schema_name=old, tenant=True, interactive=False, verbosity=0)
    finally:
        connection.set_schema_to_public()
    assert fingerprint(old) == fingerprint(reference)
