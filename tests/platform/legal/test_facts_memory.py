"""The operator and sub-processors a process remembers: read once per change, never inside a transaction,
never longer than the platform says nothing changed (termino/platform/legal/facts_memory.py)."""

from datetime import date

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from termino.platform.legal import facts_memory, selectors
from termino.platform.legal.models import Category, Operator, SubProcessor
from termino.shared import cache_version
from tests.conftest import client_for

DAY = date(2026, 12, 7)


def read():
    """The facts, and how many statements reading them sent."""
    with CaptureQueriesContext(connection) as queries:
        facts = selectors.processor_facts(DAY)
    return facts, len([q for q in queries if "legal_" in (q["sql"] or "")])


@pytest.fixture
def operator_name(committed_db):
    """The operator's name, put back afterwards (these tests commit)."""
    before = Operator.current().name
    yield before
    Operator.objects.filter(pk=1).update(name=before)
    facts_memory.forget_here()


def test_read_once_then_again_after_a_change_made_here(operator_name, settings):
    settings.LEGAL_LOCAL_SECONDS = 0  # every read asks Redis for the version
    first, statements = read()
    assert statements == 2
    again, statements = read()
    assert statements == 0 and again == first

    operator = Operator.current()
    operator.name = "Neue Betreiber GmbH"
    operator.save()  # as the staff admin's Legal texts page does
    changed, statements = read()
    assert statements == 2 and changed.operator.name == "Neue Betreiber GmbH"

    provider = SubProcessor.objects.create(
        name="Mailhaus AG", category=Category.EMAIL, purpose="E-Mails", location="EU", active_from=DAY
    )
    try:
        assert provider in read()[0].providers
    finally:
        provider.delete()
    assert provider.name not in [p.name for p in read()[0].providers]


def test_a_change_another_process_committed_is_seen_once_announced(operator_name, settings):
    settings.LEGAL_LOCAL_SECONDS = 0
    read()
    Operator.objects.filter(pk=1).update(name="Andere GmbH")  # another process: no signal here
    assert read()[0].operator.name == operator_name  # not announced yet
    cache_version.move(caches["platform"], facts_memory.VERSION_KEY)  # what its commit does
    assert read()[0].operator.name == "Andere GmbH"


def test_what_bypassed_the_announcement_is_read_again_after_the_memory_time(operator_name, settings):
    read()
    Operator.objects.filter(pk=1).update(name="Still GmbH")
    settings.LEGAL_MEMORY_SECONDS = 0
    facts, statements = read()
    assert statements == 2 and facts.operator.name == "Still GmbH"


def test_inside_a_transaction_nothing_is_remembered_or_reused(operator_name):
    read()
    with transaction.atomic():
        assert read()[1] == 2
        operator = Operator.objects.select_for_update().get(pk=1)
        operator.name = "Vorläufig GmbH"
        operator.save()
        assert read()[0].operator.name == "Vorläufig GmbH"
        transaction.set_rollback(True)
    facts, statements = read()
    assert facts.operator.name == operator_name and statements == 2


def test_the_booking_pages_services_answer_reads_them_once(committed_db, business_a):
    client = client_for(business_a.host)

    def legal_statements():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/public/v1/services/")
        assert answer.status_code == 200
        return answer.json()["business"]["privacy_policy_version"], [
            q for q in queries if '"legal_' in (q["sql"] or "")
        ]

    version, first = legal_statements()
    same, second = legal_statements()
    assert len(first) == 2 and second == [] and same == version


def test_after_redis_lost_its_data_nothing_remembered_is_trusted(operator_name, settings):
    """An announcement lost with Redis's data must not leave a process trusting what it read before."""
    settings.LEGAL_LOCAL_SECONDS = 0
    read()
    Operator.objects.filter(pk=1).update(name="Nach dem Neustart GmbH")  # announced, then lost:
    caches["platform"].delete(facts_memory.VERSION_KEY)
    facts, statements = read()
    assert statements == 2 and facts.operator.name == "Nach dem Neustart GmbH"
