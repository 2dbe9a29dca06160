"""django-tenants' schema-drop listener hears only Tenant deletions, so every other model keeps Django's fast
delete: one DELETE, without reading the rows first."""

import pytest
from django.db import connection
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext
from django_tenants.signals import tenant_delete_callback
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.tenants.crm.models import Consent, ConsentKind, Customer


def test_the_schema_drop_still_listens_to_tenant_deletions_only():
    assert tenant_delete_callback in post_delete._live_receivers(Tenant)[0]
    assert not post_delete.has_listeners(Consent)


@pytest.mark.django_db
def test_deleting_rows_of_a_model_without_listeners_is_one_statement(business_a):
    with schema_context(business_a.schema):
        customer = Customer.objects.create(first_name="Lea", last_name="Kurz", email="lea@example.com")
        Consent.objects.bulk_create(
            Consent(customer=customer, kind=ConsentKind.PRIVACY, granted=True, policy_version=f"v{n}")
            for n in range(3)
        )
        with CaptureQueriesContext(connection) as statements:
            deleted, _rows = Consent.objects.filter(customer=customer).delete()
        assert deleted == 3 and not Consent.objects.exists()
    sent = [q["sql"] for q in statements if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sent) == 1 and sent[0].startswith('DELETE FROM "crm_consent"')
