"""The message log: a move leaves one change notice per channel, "Resend" only where it can succeed (and
refused by the server elsewhere), reasons in the reader's language."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.staffadmin.models import SmsLock
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.privacy import services as privacy
from termino.tenants.scheduling.models import Appointment
from tests.fakes.lox24 import FakeLox24
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


@pytest.fixture
def booked(business_a, fake):
    """An online booking whose confirmations (SMS and e-mail) went out: (appointment, manage token)."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        # Customer messages only (the team's: tests/tenants/notifications/test_team_notices.py).
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email": False})
    response = public_post(business_a.host, "bookings/", booking_body(service, next_monday()))
    assert response.status_code == 201
    with schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
        appointment = Appointment.objects.get()
    connection.set_schema_to_public()
    return appointment, response.json()["manage_token"]


def resend_buttons(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'action="/settings/outbox/(\d+)/resend/"', page)}


def test_a_move_leaves_one_change_notice_per_channel_and_no_skipped_rows(business_a, booked, fake):
    appointment, token = booked
    new_start = appointment.start + timedelta(days=1)
    moved = public_post(business_a.host, f"bookings/{token}/reschedule/", {"start": new_start.isoformat()})
    assert moved.status_code == 200, moved.content
    with schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
        to_customer = OutboxMessage.objects.exclude(kind__startswith="team_")
        changes = to_customer.filter(kind="change")
        assert sorted(changes.values_list("channel", "status")) == [("email", "sent"), ("sms", "sent")]
        assert not to_customer.filter(status="skipped").exists()
        # The old time's reminders are gone, the new time's wait.
        reminders = to_customer.filter(kind="reminder")
        assert {m.due_at for m in reminders} == {
            new_start - timedelta(hours=24),
            new_start - timedelta(hours=2),
        }
    page = log_in_as(business_a).get("/settings/outbox/").content.decode()
    assert page.count("Booking change ·") == 2
    assert 'badge-warn">Skipped' not in page


def test_resend_is_offered_only_where_it_can_succeed(business_a, booked):
    appointment, _token = booked
    owner = log_in_as(business_a)
    with schema_context(business_a.schema):
        confirmations = {m.channel: m for m in OutboxMessage.objects.filter(kind="confirmation")}
        reminders = list(OutboxMessage.objects.filter(kind="reminder"))
    page = owner.get("/settings/outbox/").content.decode()
    assert resend_buttons(page) == {m.pk for m in confirmations.values()}  # queued reminders: no button

    with schema_context(business_a.schema):
        OutboxMessage.objects.filter(pk__in=[m.pk for m in reminders]).update(status="failed")
    with time_machine.travel(appointment.start + timedelta(minutes=5), tick=True):
        owner = log_in_as(business_a)
        page = owner.get("/settings/outbox/").content.decode()
        assert resend_buttons(page) == set()  # the appointment has begun
        assert "The appointment has already begun." in page
        response = owner.post(f"/settings/outbox/{reminders[0].pk}/resend/", follow=True)
        assert "Not sent again" in response.content.decode()
    with schema_context(business_a.schema):
        assert not OutboxMessage.objects.filter(resend_of__isnull=False).exists()


def test_no_resend_for_a_cancelled_appointment_an_erased_customer_or_blocked_sms(business_a, booked):
    appointment, token = booked
    owner = log_in_as(business_a)
    with schema_context(business_a.schema):
        sms = OutboxMessage.objects.get(kind="confirmation", channel="sms")
        email = OutboxMessage.objects.get(kind="confirmation", channel="email")

    SmsLock.objects.create(tenant_id=business_a.tenant.pk, reason="abuse report")
    page = owner.get("/settings/outbox/").content.decode()
    assert resend_buttons(page) == {email.pk}
    assert owner.post(f"/settings/outbox/{sms.pk}/resend/").status_code == 302
    SmsLock.objects.filter(tenant_id=business_a.tenant.pk).delete()

    with schema_context(business_a.schema):
        OutboxMessage.objects.filter(pk=sms.pk).update(recipient="+4930123456")  # a landline
    assert resend_buttons(owner.get("/settings/outbox/").content.decode()) == {email.pk}

    assert public_post(business_a.host, f"bookings/{token}/cancel/").status_code == 200
    assert resend_buttons(owner.get("/settings/outbox/").content.decode()) == set()  # sms, email: cancelled

    with schema_context(business_a.schema):
        cancellation = OutboxMessage.objects.get(kind="cancellation", channel="email")
        OutboxMessage.objects.filter(pk=cancellation.pk).update(status="sent")
    assert cancellation.pk in resend_buttons(owner.get("/settings/outbox/").content.decode())
    with schema_context(business_a.schema):
        customer = Appointment.objects.get(pk=appointment.pk).customer
        privacy.customer_erase(customer=customer)
    page = owner.get("/settings/outbox/").content.decode()
    assert resend_buttons(page) == set()
    response = owner.post(f"/settings/outbox/{cancellation.pk}/resend/", follow=True)
    assert "erased" in response.content.decode()
    with schema_context(business_a.schema):
        assert not OutboxMessage.objects.filter(resend_of__isnull=False).exists()


def test_reasons_are_stored_as_codes_and_shown_in_german(business_a, booked):
    with schema_context(business_a.schema):
        sms = OutboxMessage.objects.get(kind="confirmation", channel="sms")
        OutboxMessage.objects.filter(pk=sms.pk).update(status="skipped", reason="daily_cap")
        email = OutboxMessage.objects.get(kind="confirmation", channel="email")
        OutboxMessage.objects.filter(pk=email.pk).update(status="failed", reason="LOX24 said no (500)")
    page = log_in_as(business_a, language="de").get("/settings/outbox/").content.decode()
    assert "Tageslimit für SMS" in page and "daily_cap" not in page
    assert "LOX24 said no (500)" in page  # a provider's own words stay as they are
    assert "Übersprungen" in page


def test_the_old_english_reasons_become_codes(business_a):
    """The data migration's mapping, applied to rows as the old code wrote them."""
    migration = import_module("termino.tenants.notifications.migrations.0005_team_messages_reason_codes")
    with schema_context(business_a.schema):
        old = {
            "a": "Processing of this customer's data is restricted.",
            "b": "Daily SMS limit of this business reached (50 SMS today): not sent. If the bookings …",
            "c": "SMS quota of this month used up",
            "d": "LOX24: no credit left (402)",
        }
        rows = {
            key: OutboxMessage.objects.create(
                channel="sms",
                kind="reminder",
                recipient="+4917012345678",
                due_at=timezone.now(),
                status="skipped",
                reason=reason,
                idempotency_key=f"old:{key}",
            )
            for key, reason in old.items()
        }
        migration.to_codes(apps, None)
        assert {k: OutboxMessage.objects.get(pk=r.pk).reason for k, r in rows.items()} == {
            "a": "restricted",
            "b": "daily_cap",
            "c": "quota_used_up",
            "d": "LOX24: no credit left (402)",
        }
