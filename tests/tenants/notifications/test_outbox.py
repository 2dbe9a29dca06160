from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling.events import Actor
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


@pytest.fixture
def booked(business_a):
    """A widget booking with e-mail and SMS consent: two confirmations queued."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(
            id=1,
            defaults={"team_notice_email": False},
            # Customer messages only (the team's: test_team_notices.py).
        )
    response = public_post(business_a.host, "bookings/", booking_body(service, next_monday()))
    assert response.status_code == 201
    return business_a


def send(business, gateway):
    with schema_context(business.schema):
        return services.outbox_send_due(tenant=business.tenant, sms=gateway)


def test_confirmation_goes_out_once_by_sms_and_email(booked, fake):
    gateway = Lox24Gateway(fake.url, fake.token)
    assert send(booked, gateway) == {"sent": 2}
    assert send(booked, gateway) == {}  # nothing due any more
    assert len(fake.messages) == 1
    sms = fake.messages[0]
    assert sms["phone"] == "+491701234567" and "Haarschnitt" in sms["text"] and "Europe/Berlin" in sms["text"]
    assert sms["sender_id"] == "Alpha Salon"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["lena.fischer@example.com"] and "Alpha Salon" in email.subject
    assert email.attachments[0][0] == "termin.ics"
    with schema_context(booked.schema):
        rows = {m.channel: m for m in OutboxMessage.objects.filter(kind="confirmation")}
        assert rows["sms"].provider_message_id == fake.ids[0] and rows["sms"].status == "sent"
        assert rows["email"].status == "sent" and "Haarschnitt" in rows["email"].text


def test_temporary_errors_back_off_then_succeed(booked, fake):
    gateway = Lox24Gateway(fake.url, fake.token)
    fake.fail_next(503, times=1)
    assert send(booked, gateway) == {"queued": 1, "sent": 1}
    with schema_context(booked.schema):
        sms = OutboxMessage.objects.get(channel="sms", kind="confirmation")
        assert sms.status == "queued" and sms.due_at > timezone.now() and "503" in sms.reason
        OutboxMessage.objects.filter(pk=sms.pk).update(due_at=timezone.now())
    assert send(booked, gateway) == {"sent": 1}
    assert len(fake.messages) == 1


def test_permanent_error_fails_with_a_reason_and_no_retry(booked, fake):
    fake.fail_next(402, times=1)
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"failed": 1, "sent": 1}
    with schema_context(booked.schema):
        sms = OutboxMessage.objects.get(channel="sms", kind="confirmation")
        assert sms.status == "failed" and "credit" in sms.reason
    assert fake.messages == []


def test_a_row_with_a_provider_id_is_never_sent_again(booked, fake):
    with schema_context(booked.schema):
        OutboxMessage.objects.filter(channel="sms", kind="confirmation").update(
            status="sending", provider_message_id="already-1"
        )
        OutboxMessage.objects.filter(channel="email").update(status="sent")
        assert (
            services.outbox_deliver(
                message_id=OutboxMessage.objects.get(channel="sms", kind="confirmation").pk,
                tenant=booked.tenant,
                sms=Lox24Gateway(fake.url, fake.token),
            )
            == "sent"
        )
    assert fake.messages == []


def test_a_stuck_sms_the_provider_has_is_recorded_not_resent(booked, fake):
    gateway = Lox24Gateway(fake.url, fake.token)
    with schema_context(booked.schema):
        rows = OutboxMessage.objects.filter(kind="confirmation")
        sms = rows.get(channel="sms")
        # The worker's request reached the provider, then the worker died before recording the id.
        accepted = gateway.send(
            sender_id="Test",
            phone=sms.recipient,
            text="x",
            callback_data=f"{booked.schema}|{sms.idempotency_key}",
        )
        rows.update(status="sending", attempts=1, updated_at=timezone.now() - timedelta(hours=1))
        assert services.outbox_reconcile() == 2
        assert dict(rows.values_list("channel", "status")) == {"sms": "queued", "email": "failed"}
    assert send(booked, gateway) == {"sent": 1}
    assert len(fake.messages) == 1  # only the one sent before the crash
    with schema_context(booked.schema):
        assert rows.get(channel="sms").provider_message_id == accepted.provider_id


def test_a_stuck_sms_the_provider_never_got_is_sent(booked, fake):
    with schema_context(booked.schema):
        rows = OutboxMessage.objects.filter(kind="confirmation", channel="sms")
        rows.update(status="sending", attempts=1, updated_at=timezone.now() - timedelta(hours=1))
        assert services.outbox_reconcile() == 1
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"sent": 2}  # the SMS and the e-mail
    assert len(fake.messages) == 1


def test_recent_sending_rows_are_left_alone(booked):
    with schema_context(booked.schema):
        OutboxMessage.objects.filter(kind="confirmation").update(status="sending", updated_at=timezone.now())
        assert services.outbox_reconcile() == 0


def test_claims_never_overlap(booked):
    with schema_context(booked.schema):
        first = services.outbox_claim(limit=1)
        second = services.outbox_claim(limit=5)
        assert len(first) == 1 and len(second) == 1 and set(first).isdisjoint(second)
        assert services.outbox_claim() == []


def test_consent_withdrawn_after_queueing_stops_the_message_at_send_time(booked, fake):
    with schema_context(booked.schema):
        sms = OutboxMessage.objects.get(kind="confirmation", channel="sms")
        Consent.objects.create(customer=sms.customer, kind="sms_reminders", granted=False, source="test")
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"skipped": 1, "sent": 1}
    assert fake.messages == []
    with schema_context(booked.schema):
        sms.refresh_from_db()
        assert sms.status == "skipped" and "consent" in sms.reason


def test_restricted_processing_stops_every_message(booked, fake):
    with schema_context(booked.schema):
        customer = OutboxMessage.objects.filter(kind="confirmation").first().customer
        Customer.objects.filter(pk=customer.pk).update(processing_restricted=True)
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"skipped": 2}
    assert fake.messages == []
    with schema_context(booked.schema):
        appointment = OutboxMessage.objects.first().appointment
        appointment.customer.refresh_from_db()
        lifecycle.appointment_move(  # queues nothing new
            actor=Actor(source="backoffice"),
            appointment=appointment,
            start=appointment.start + timedelta(hours=1),
        )
        assert not OutboxMessage.objects.filter(kind="change").exists()


def _plan_with_sms(business, sms_per_month: int, credits: int):
    from termino.platform.billing.models import BillingAccount, Plan

    plan = Plan.objects.create(
        code=f"tiny-{sms_per_month}", name="Tiny", price_monthly_cents=100, price_yearly_cents=1000,
        max_staff=1, sms_per_month=sms_per_month,
    )  # fmt: skip
    BillingAccount.objects.filter(tenant_id=business.tenant.pk).update(plan=plan, extra_sms_credits=credits)


def test_sms_over_the_monthly_quota_is_skipped_with_a_clear_reason(booked, fake):
    _plan_with_sms(booked, 0, 0)
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"skipped": 1, "sent": 1}  # the e-mail goes
    assert fake.messages == []
    with schema_context(booked.schema):
        sms = OutboxMessage.objects.get(kind="confirmation", channel="sms")
        assert sms.status == "skipped" and sms.reason == "quota_used_up"


def test_bought_sms_are_used_once_the_allowance_is_gone(booked, fake):
    from termino.platform.billing.models import BillingAccount

    _plan_with_sms(booked, 0, 1)
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"sent": 2}
    assert len(fake.messages) == 1
    assert BillingAccount.objects.get(tenant_id=booked.tenant.pk).extra_sms_credits == 0


def test_sms_of_a_business_locked_by_platform_staff_are_skipped(booked, fake):
    from termino.platform.staffadmin.models import SmsLock

    SmsLock.objects.create(tenant_id=booked.tenant.pk, reason="abuse report")
    assert send(booked, Lox24Gateway(fake.url, fake.token)) == {"skipped": 1, "sent": 1}  # the e-mail goes
    assert fake.messages == []


def test_a_batch_row_requeued_as_stuck_and_taken_by_another_attempt_is_not_sent_by_the_first(booked, fake):
    """A slow gateway keeps a batch's last rows `sending` past OUTBOX_STUCK_AFTER_SECONDS; the reconcile hands
    the SMS to another attempt. The first worker, reaching the row later, must leave it alone."""
    gateway = Lox24Gateway(fake.url, fake.token)
    with schema_context(booked.schema):
        OutboxMessage.objects.filter(channel="email").update(status="sent")
        first = services._claim(services.CLAIM_BATCH)  # the slow worker's batch
        assert [m.channel for m in first] == ["sms"]
        OutboxMessage.objects.filter(pk=first[0].pk).update(updated_at=timezone.now() - timedelta(hours=1))
        assert services.outbox_reconcile() == 1
        second = services._claim(services.CLAIM_BATCH)  # another worker's attempt
        assert [(m.pk, m.attempts) for m in second] == [(first[0].pk, 2)]
        batch = services.Batch.load(booked.tenant, gateway)
        assert services._deliver(first[0], batch) == ""  # superseded: not sent, nothing overwritten
        assert fake.messages == []
        assert services._deliver(second[0], batch) == "sent"
        assert services._deliver(first[0], batch) == ""
        row = OutboxMessage.objects.get(pk=first[0].pk)
    assert len(fake.messages) == 1
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 2, fake.ids[0])
