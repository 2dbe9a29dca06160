"""Each retention rule changes exactly what it says: one row just outside its period, one just inside."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.privacy.models import PersonalDataEvent
from termino.tenants.retention.models import RetentionPolicy
from termino.tenants.retention.rules import mask_recipient, years_before
from termino.tenants.retention.services import retention_run

from .factories import SECOND, appointment, consent, customer, login_event, message, note

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def in_a(business_a):
    with schema_context(business_a.schema):
        yield business_a


def test_message_texts_after_k_days(in_a, now):
    cutoff = now - timedelta(days=90)
    outside = message(due=cutoff - SECOND)
    inside = message(due=cutoff + SECOND)
    mail = message(due=cutoff - SECOND, channel="email", recipient="anna.mueller@example.com")
    waiting = message(due=cutoff - timedelta(days=3), status="queued")  # not sent: nothing to remove yet

    run = retention_run(now=now)

    assert run.counts["message_texts_deleted"] == 2
    for row, masked in ((outside, "+49…"), (mail, "…@example.com")):
        row.refresh_from_db()
        assert (row.text, row.recipient) == ("", masked)
    for row in (inside, waiting):
        row.refresh_from_db()
        assert row.text and row.recipient == "+4917012345678"


def test_appointments_after_m_years(in_a, now):
    cutoff = years_before(now, 10)
    regular = customer(touched=now)  # an active customer: the customer rule leaves them alone
    outside = appointment(ended=cutoff - SECOND, customer=regular, cancel_reason="krank")
    about_it = message(due=cutoff - SECOND, customer=regular, appointment=outside)
    inside = appointment(ended=cutoff + SECOND, customer=regular)
    already = appointment(ended=cutoff - timedelta(days=400), notes="", manage_token=None)

    run = retention_run(now=now)

    assert run.counts["appointments_anonymised"] == 1
    outside.refresh_from_db()
    assert (outside.customer_id, outside.notes, outside.cancel_reason, outside.manage_token) == (
        None,
        "",
        "",
        None,
    )
    assert (outside.service_id, outside.status, outside.end) == (
        inside.service_id,
        "completed",
        cutoff - SECOND,
    )
    about_it.refresh_from_db()
    assert (about_it.text, about_it.recipient, about_it.customer_id) == ("", "", None)
    inside.refresh_from_db()
    assert inside.customer_id == regular.pk and inside.notes and inside.manage_token
    already.refresh_from_db()
    assert already.customer_id is None


def test_customers_after_n_years_without_activity(in_a, now):
    cutoff = years_before(now, 3)
    old = cutoff - SECOND
    gone = customer(touched=old)
    note(gone, written=old)
    consent(gone, recorded=old)
    gone_with_past = customer(touched=old)
    past = appointment(ended=old, customer=gone_with_past)
    kept = {
        "touched recently": customer(touched=cutoff + SECOND),
        "recent appointment": customer(touched=old),
        "future appointment": customer(touched=old),
        "recent note": customer(touched=old),
        "recent consent": customer(touched=old),
        "restricted": customer(touched=old, processing_restricted=True),
        "message on its way": customer(touched=old),
    }
    appointment(ended=cutoff + SECOND, customer=kept["recent appointment"])
    appointment(ended=now + timedelta(days=3), customer=kept["future appointment"], status="confirmed")
    note(kept["recent note"], written=cutoff + SECOND)
    consent(kept["recent consent"], recorded=cutoff + SECOND)
    message(due=old, customer=kept["message on its way"], status="queued")

    run = retention_run(now=now)

    assert run.counts["customers_erased"] == 2
    assert not Customer.objects.filter(pk__in=[gone.pk, gone_with_past.pk]).exists()
    assert not CustomerNote.objects.filter(customer_id=gone.pk).exists()
    assert not Consent.objects.filter(customer_id=gone.pk).exists()
    past.refresh_from_db()  # kept for the books, without the person
    assert (past.customer_id, past.notes, past.manage_token) == (None, "", None)
    assert set(Customer.objects.values_list("pk", flat=True)) >= {c.pk for c in kept.values()}
    erasures = PersonalDataEvent.objects.filter(action="erase", customer_id__in=[gone.pk, gone_with_past.pk])
    assert erasures.count() == 2
    assert all(e.actor_label.startswith("retention rule") for e in erasures)


def test_login_ips_after_d_days(in_a, now):
    outside = login_event(at=now - timedelta(days=7) - SECOND)
    inside = login_event(at=now - timedelta(days=7) + SECOND)

    run = retention_run(now=now)

    assert run.counts["login_ips_removed"] == 1
    outside.refresh_from_db()
    inside.refresh_from_db()
    assert (outside.ip_address, outside.ip_truncated) == ("203.0.113.0", True)
    assert (inside.ip_address, inside.ip_truncated) == ("203.0.113.77", False)


def test_the_businesss_own_periods_apply(in_a, now):
    RetentionPolicy.objects.create(
        id=1, customer_erase_years=1, appointment_anonymise_years=2, message_text_days=5, login_ip_days=2
    )
    gone = customer(touched=years_before(now, 1) - SECOND)
    old_appointment = appointment(ended=years_before(now, 2) - SECOND, customer=customer(touched=now))
    old_message = message(due=now - timedelta(days=5) - SECOND)
    old_login = login_event(at=now - timedelta(days=2) - SECOND)

    counts = retention_run(now=now).counts

    assert counts == {
        "customers_erased": 1,
        "appointments_anonymised": 1,
        "message_texts_deleted": 1,
        "login_ips_removed": 1,
    }
    assert not Customer.objects.filter(pk=gone.pk).exists()
    old_appointment.refresh_from_db()
    old_message.refresh_from_db()
    old_login.refresh_from_db()
    assert old_appointment.customer_id is None and old_message.text == "" and old_login.ip_truncated


def test_zero_means_never(in_a, now):
    RetentionPolicy.objects.create(
        id=1, customer_erase_years=0, appointment_anonymise_years=0, message_text_days=0
    )
    long_ago = years_before(now, 25)
    quiet = customer(touched=long_ago)
    old_appointment = appointment(ended=long_ago, customer=customer(touched=now))
    old_message = message(due=long_ago)

    counts = retention_run(now=now).counts

    assert (
        counts["customers_erased"]
        == counts["appointments_anonymised"]
        == counts["message_texts_deleted"]
        == 0
    )
    assert Customer.objects.filter(pk=quiet.pk).exists()
    old_appointment.refresh_from_db()
    old_message.refresh_from_db()
    assert old_appointment.customer_id and old_message.text


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+4917012345678", "+49…"),
        ("anna@example.com", "…@example.com"),
        ("+49…", "+49…"),  # masked already
        ("", ""),
    ],
)
def test_mask_recipient(value, masked):
    assert mask_recipient(value) == masked


def test_years_before_handles_the_29th_of_february():
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert years_before(leap, 3) == datetime(2025, 2, 28, 12, tzinfo=UTC)
