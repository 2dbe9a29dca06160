"""Trial businesses whose owner never confirmed the e-mail address are removed after seven days (warned a
day before), schema and all, each written to the platform log; nothing else is touched.

These run in the per-test transaction: DDL is transactional in PostgreSQL, so the dropped schemas come
back with the rollback, and businesses A and B serve as the confirmed and the young unconfirmed case.
"""

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from termino.platform.tenancy.models import AppendOnlyError, Domain, PlatformEvent, Tenant
from termino.platform.tenancy.tasks import remove_unconfirmed
from termino.shared.timeutils import shift
from tests.conftest import provision, unique_slug
from tests.isolation.world import changed_tables, snapshot

pytestmark = pytest.mark.django_db


def signed_up(business, *, days: float, confirmed: bool = False, **fields):
    """Make `business` one that signed up `days` ago, confirmed or not."""
    at = shift(timezone.now(), days=-days)
    Tenant.objects.filter(pk=business.tenant.pk).update(
        activated_at=at, email_confirmed_at=at if confirmed else None, **fields
    )
    return at


def exists(business) -> bool:
    return Tenant.objects.filter(pk=business.tenant.pk).exists() and schema_exists(business.schema)


def run() -> dict:
    return remove_unconfirmed.apply().get()  # as the worker runs it (beat: hourly)


@pytest.mark.clock
def test_exactly_the_old_unconfirmed_ones_are_removed_and_logged(business_a, business_b):
    old = provision(unique_slug(), email_confirmed=False, company_name="Alt und Vergessen")
    due_tomorrow = provision(unique_slug(), email_confirmed=False)
    old_signup = signed_up(old, days=7 + 1 / 1440)  # seven days and a minute ago
    signed_up(due_tomorrow, days=6.5)
    signed_up(business_b, days=1)  # young, unconfirmed
    signed_up(business_a, days=30, confirmed=True)  # old, confirmed
    before_a, before_b = snapshot(business_a.schema), snapshot(business_b.schema)
    spares = set(Tenant.objects.filter(status="spare").values_list("pk", flat=True))

    assert run() == {"warned": 1, "removed": 1}

    assert not Tenant.objects.filter(pk=old.tenant.pk).exists()
    assert not schema_exists(old.schema)
    assert not Domain.objects.filter(domain=old.host).exists()
    (entry,) = PlatformEvent.objects.filter(tenant_id=old.tenant.pk)
    assert entry.kind == "unconfirmed_removed" and entry.slug == old.tenant.slug
    assert entry.schema_name == old.schema and "Alt und Vergessen" in entry.tenant_label
    assert "not confirmed within 7 days" in entry.reason
    assert entry.details == {"signed_up_at": old_signup.isoformat(), "warned_at": None}

    for business in (due_tomorrow, business_a, business_b):
        assert exists(business), business.tenant.slug
    assert not changed_tables(before_a, snapshot(business_a.schema))
    assert not changed_tables(before_b, snapshot(business_b.schema))
    assert set(Tenant.objects.filter(status="spare").values_list("pk", flat=True)) == spares

    # The one due tomorrow got the warning, once, with a link that still works.
    (warning,) = mail.outbox
    assert warning.to == [due_tomorrow.owner_username]
    assert warning.subject.startswith("Bitte bestätigen Sie Ihre E-Mail-Adresse, sonst wird")  # German
    assert f"http://{due_tomorrow.host}:8000/confirm-email/" in warning.body
    assert Tenant.objects.get(pk=due_tomorrow.tenant.pk).removal_warned_at is not None
    assert PlatformEvent.objects.filter(tenant_id=due_tomorrow.tenant.pk, kind="removal_warned").count() == 1
    assert run() == {"warned": 0, "removed": 0}
    assert len(mail.outbox) == 1

    # Half a day later it is gone too; A and B stay.
    with time_machine.travel(shift(timezone.now(), hours=12, minutes=1)):
        assert run() == {"warned": 0, "removed": 1}
    assert not exists(due_tomorrow) and exists(business_a) and exists(business_b)


def test_paying_suspended_and_confirmed_businesses_are_never_removed(business_a, business_b):
    paying = provision(unique_slug(), email_confirmed=False)
    signed_up(paying, days=20, status="active")  # subscribed without confirming: kept
    signed_up(business_b, days=20, status="suspended")  # platform staff hold it: kept for them
    signed_up(business_a, days=20, confirmed=True)
    assert run() == {"warned": 0, "removed": 0}
    assert exists(paying) and exists(business_a) and exists(business_b)
    assert mail.outbox == []


def test_a_business_confirmed_in_time_stays(business_b, django_capture_on_commit_callbacks):
    from termino.platform.tenancy.confirmation import confirmation_token, tenant_email_confirm

    signed_up(business_b, days=6.9)
    row = Tenant.objects.get(pk=business_b.tenant.pk)
    token = confirmation_token(tenant=row)
    with time_machine.travel(shift(timezone.now(), hours=2)):
        assert tenant_email_confirm(tenant=row, token=token) == "valid"
        assert run() == {"warned": 0, "removed": 0}
    assert exists(business_b)


def test_the_platform_log_is_append_only(business_a):
    entry = PlatformEvent.objects.create(
        kind="removal_warned", tenant_id=business_a.tenant.pk, schema_name=business_a.schema, reason="test"
    )
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        PlatformEvent.objects.filter(pk=entry.pk).delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tenancy_platformevent SET reason = 'x' WHERE id = %s", [entry.pk])
