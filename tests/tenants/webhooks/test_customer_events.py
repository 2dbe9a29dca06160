"""Every door through which customers change reports it: created (also by the CSV import), updated (also by
a merge), erased; what a change to one customer sends goes out in order."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.crm import services as crm
from termino.tenants.privacy.services import customer_erase
from termino.tenants.webhooks.models import Delivery, EventType

from .helpers import endpoint

pytestmark = pytest.mark.django_db
CUSTOMER_EVENTS = [EventType.CUSTOMER_CREATED, EventType.CUSTOMER_UPDATED, EventType.CUSTOMER_ERASED]


def test_customer_changes_become_deliveries(business_a):
    with schema_context(business_a.schema):
        endpoint("http://127.0.0.1:9/hooks", CUSTOMER_EVENTS)
        kim = crm.customer_create(first_name="Kim", last_name="Berg", email="kim@example.org")
        crm.customer_update(customer=kim, first_name="Kim", last_name="Berg-Ost", email="kim@example.org")
        crm.customer_import(rows=[{"row": 2, "last_name": "Import", "email": "import@example.org"}])
        duplicate = crm.customer_create(first_name="Kim", last_name="Berg-Ost", phone="+4917612345678")
        crm.customer_merge(keep_id=kim.pk, duplicate_id=duplicate.pk)
        customer_erase(customer=kim)
        rows = list(Delivery.objects.order_by("id").values_list("event", "subject", "payload"))
    kim_rows = [(event, payload) for event, subject, payload in rows if subject == f"customer:{kim.pk}"]
    assert [event for event, _ in kim_rows] == [
        "customer.created",
        "customer.updated",
        "customer.updated",
        "customer.erased",
    ]
    # Erased: nothing about Kim but the id is left, in any delivery.
    assert all(payload == {"customer": {"id": kim.pk}} for _, payload in kim_rows)
    assert sum(event == "customer.created" for event, _, _ in rows) >= 2
