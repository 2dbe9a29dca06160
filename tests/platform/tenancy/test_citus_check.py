"""The start-up check for a Citus coordinator (termino/platform/tenancy/checks.py), against the real test
database: plain PostgreSQL, so a Citus coordinator is played by reading `plpgsql` (installed everywhere)
as if it were the `citus` extension, with the Citus settings as custom settings of the transaction."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from termino.platform.tenancy import checks as citus_checks

pytestmark = pytest.mark.django_db

GOOD = {
    "citus.enable_schema_based_sharding": "on",
    "citus.enable_unsafe_triggers": "on",
    "citus.propagate_set_commands": "local",
}


@pytest.fixture
def coordinator(monkeypatch):
    probe = citus_checks.citus_probe
    monkeypatch.setattr(citus_checks, "citus_probe", lambda: probe("plpgsql"))

    def configure(**values: str) -> None:
        with connection.cursor() as cursor:
            for name, value in values.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])  # until the test ends

    return configure


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_without_citus_it_says_nothing_for_one_query():
    citus_checks.citus_settings(
        databases=["default"]
    )  # django-tenants may first move the connection back to public
    with CaptureQueriesContext(connection) as queries:
        assert citus_checks.citus_settings(databases=["default"]) == []
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"]


def test_without_a_database_it_says_nothing(monkeypatch):
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(citus_checks, "citus_probe", unreachable)
    assert citus_checks.citus_settings(databases=["default"]) == []


def test_names_each_missing_setting_with_the_statement_that_sets_it(coordinator):
    coordinator(**{"citus.enable_unsafe_triggers": "off", "citus.propagate_set_commands": "none"})
    found = citus_checks.citus_settings(databases=["default"])
    assert ids(found) == ["tenancy.E001", "tenancy.E002", "tenancy.E003"]
    sharding, triggers, set_commands = found
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    assert "citus.enable_schema_based_sharding is not defined" in sharding.msg
    assert "citus.enable_unsafe_triggers is 'off', not 'on'" in triggers.msg
    assert "citus.propagate_set_commands is 'none', not 'local'" in set_commands.msg
    assert f"ALTER DATABASE {database} SET citus.enable_unsafe_triggers TO 'on';" in triggers.hint
    assert f"ALTER DATABASE {database} SET citus.propagate_set_commands TO 'local';" in set_commands.hint
    assert "privacy" in triggers.hint and "retention purge" in set_commands.hint
    assert all("docs/scaling.md" in message.hint for message in found)


def test_a_coordinator_with_every_setting_passes(coordinator):
    coordinator(**GOOD)
    assert citus_checks.citus_settings(databases=["default"]) == []
    coordinator(**{"citus.propagate_set_commands": "none"})
    assert ids(citus_checks.citus_settings(databases=["default"])) == ["tenancy.E003"]


def test_transaction_pooling_is_refused_on_citus(coordinator, monkeypatch):
    coordinator(**GOOD)
    monkeypatch.setattr(connections["default"], "pool_mode", "transaction")  # the wrapper, not the proxy
    (found,) = citus_checks.citus_settings(databases=["default"])
    assert found.id == "tenancy.E004" and "DATABASE_POOL_MODE=session" in found.hint


def test_manage_py_check_runs_it(coordinator):
    coordinator(**{**GOOD, "citus.enable_unsafe_triggers": "off"})
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--database", "default")
    assert "tenancy.E002" in str(refused.value) and "citus.enable_unsafe_triggers" in str(refused.value)
    with pytest.raises(SystemCheckError):
        call_command("fill_schema_pool", "--size", "0")  # stops before its first statement
    coordinator(**GOOD)
    call_command("check", "--database", "default")


def test_the_chart_and_the_docs_state_the_same_settings():
    root = Path(__file__).resolve().parents[3]
    for where in (root / "helm" / "termino" / "values.yaml", root / "docs" / "scaling.md"):
        text = where.read_text()
        for name, wanted, _ in citus_checks.CITUS_SETTINGS:
            assert f"SET {name} TO '{wanted}'" in text, f"{where.name} does not say: SET {name} TO '{wanted}'"


def test_without_a_database_named_it_asks_nothing(django_assert_num_queries):
    # What a Celery worker's start or a plain `manage.py check` runs: no connection, no query.
    with django_assert_num_queries(0):
        assert citus_checks.citus_settings() == []
