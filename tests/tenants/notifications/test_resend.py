"""Resending from the message log: always a new row, never the old one again, never without consent."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from termino.platform.duework import due
from termino.platform.tenancy.selectors import current_business
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.crm.models import Consent
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


@pytest.fixture
def sent(business_a, fake):
    """A widget booking whose confirmations (SMS and e-mail) went out; the test runs in A's schema."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
        owner = get_user_model().objects.get(username=business_a.owner_username)
        yield OutboxMessage.objects.get(kind="confirmation", channel="sms"), owner


def snapshot(message):
    message.refresh_from_db()
    return (message.status, message.text, message.provider_message_id, message.attempts, message.updated_at)


def test_a_resend_is_a_new_row_and_the_old_one_stays(sent):
    original, owner = sent
    before = snapshot(original)
    resend = services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())
    assert resend.pk != original.pk and resend.idempotency_key == f"resend:{original.pk}:1"
    assert (resend.channel, resend.kind, resend.recipient) == (
        original.channel,
        original.kind,
        original.recipient,
    )
    assert resend.status == "queued" and resend.text == "" and resend.due_at <= timezone.now()
    assert resend.resend_of == original and resend.requested_by == owner
    assert snapshot(original) == before
    again = services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())
    assert again.idempotency_key == f"resend:{original.pk}:2"


def test_the_send_task_is_asked_for_on_commit(sent, business_a, django_capture_on_commit_callbacks):
    original, owner = sent
    # Captured, not run: the worker would find the row only after a real commit.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resend = services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())
    # The due index learns of it with the transaction's other marks, and a worker is asked to send it now.
    assert due.waiting()[business_a.schema, "notifications.outbox"] <= resend.due_at
    (send,) = [callback for callback in callbacks if getattr(callback, "func", None) is services.send_soon]
    assert send.keywords == {"schema_name": business_a.schema}


def test_the_resend_is_rendered_and_sent_again(sent, fake, business_a):
    original, owner = sent
    resend = services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())
    counts = services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
    assert counts == {"sent": 1}
    assert len(fake.messages) == 2 and fake.messages[1]["text"] == fake.messages[0]["text"]
    resend.refresh_from_db()
    assert resend.status == "sent" and resend.provider_message_id == fake.ids[1] and resend.sent_at
    original.refresh_from_db()
    assert original.provider_message_id == fake.ids[0]


@pytest.mark.parametrize(("channel", "consent"), [("sms", "sms_reminders"), ("email", "privacy")])
def test_no_resend_after_consent_is_withdrawn(sent, channel, consent):
    _sms, owner = sent
    original = OutboxMessage.objects.get(kind="confirmation", channel=channel)
    Consent.objects.create(customer=original.customer, kind=consent, granted=False, source="backoffice")
    with pytest.raises(services.ResendRefused, match="withdrawn"):
        services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())
    assert not OutboxMessage.objects.filter(resend_of=original).exists()


def test_queued_messages_are_not_resent(sent):
    _sms, owner = sent
    reminder = OutboxMessage.objects.filter(kind="reminder", status="queued").first()
    with pytest.raises(services.ResendRefused, match="Only sent"):
        services.outbox_resend(message_id=reminder.pk, requested_by=owner, tenant=current_business())


def test_no_reminder_for_a_cancelled_appointment(sent):
    original, owner = sent
    Appointment.objects.filter(pk=original.appointment_id).update(status="cancelled")
    with pytest.raises(services.ResendRefused, match="cancelled"):
        services.outbox_resend(message_id=original.pk, requested_by=owner, tenant=current_business())


def test_failed_and_skipped_messages_can_be_resent(sent):
    original, owner = sent
    for status in ("failed", "skipped", "delivered"):
        OutboxMessage.objects.filter(pk=original.pk).update(status=status)
        assert (
            services.outbox_resend(
                message_id=original.pk, requested_by=owner, tenant=current_business()
            ).status
            == "queued"
        )


def test_unknown_message(sent):
    _sms, owner = sent
    with pytest.raises(OutboxMessage.DoesNotExist):
        services.outbox_resend(message_id=10**9, requested_by=owner, tenant=current_business())


def test_a_message_whose_address_was_masked_by_retention_is_not_resent(business_a):
    from termino.tenants.notifications.services import resend_refusal

    with translation.override("en"), schema_context(business_a.schema):
        message = OutboxMessage(
            status="sent", channel="sms", recipient="+49…", customer_id=1, kind="reminder"
        )
        assert "data retention" in resend_refusal(message, tenant=business_a.tenant)
