"""A business whose owner has not confirmed the signup e-mail address takes no bookings and sends no SMS;
once confirmed, it does. Business A is made unconfirmed for these tests (the transaction rolls it back)."""

from datetime import timedelta

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from termino.platform.tenancy.confirmation import confirmation_token, tenant_email_confirm
from termino.platform.tenancy.models import Tenant
from termino.platform.tenancy.routing import forget_hosts
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.notifications import services as outbox
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.fakes.lox24 import FakeLox24
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import aged_form_token, booking_body, public_post

pytestmark = pytest.mark.django_db

NOT_OPEN = "Online booking is not available yet."


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    yield business_a, service
    forget_hosts([business_a.host])  # the rollback restores the row; the routing cache must not keep a copy


def unconfirm(business) -> None:
    Tenant.objects.filter(pk=business.tenant.pk).update(email_confirmed_at=None)
    forget_hosts([business.host])


def confirm(business, capture) -> None:
    """Through the link, as the owner would; the on-commit hook makes the routing cache forget the host."""
    row = Tenant.objects.get(pk=business.tenant.pk)
    with capture(execute=True):
        assert tenant_email_confirm(tenant=row, token=confirmation_token(tenant=row)) == "valid"


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


def test_the_booking_page_says_online_booking_is_not_available_yet(shop):
    business, _service = shop
    unconfirm(business)
    page = client_for(business.host, "en").get("/book/")
    assert page.status_code == 200
    body = page.content.decode()
    assert NOT_OPEN in body and "Choose a service" not in body and "data-owner-hint" not in body
    assert (
        "Online-Buchung ist noch nicht möglich."
        in client_for(business.host, "de").get("/book/").content.decode()
    )
    assert NOT_OPEN in client_for(business.host, "en").get("/book/?embed=1").content.decode()
    # The business's own people learn why.
    owner_view = log_in_as(business).get("/book/").content.decode()
    assert "data-owner-hint" in owner_view and "confirmed its e-mail address" in owner_view


def test_holds_and_bookings_are_refused_until_confirmed_then_taken(shop, django_capture_on_commit_callbacks):
    business, service = shop
    unconfirm(business)
    start = next_monday()
    hold = public_post(
        business.host,
        "holds/",
        {"service": service.pk, "start": start.isoformat(), "form_token": aged_form_token()},
    )
    assert hold.status_code == 403 and hold.json()["detail"] == NOT_OPEN
    booking = public_post(business.host, "bookings/", booking_body(service, start))
    assert booking.status_code == 403 and booking.json()["detail"] == NOT_OPEN
    german = client_for(business.host, "de").post(
        "/api/public/v1/bookings/", booking_body(service, start), content_type="application/json"
    )
    assert german.json()["detail"] == "Online-Buchung ist noch nicht möglich."
    # Reading what could be booked still works (the page may have been open when it happened).
    assert client_for(business.host).get("/api/public/v1/services/").status_code == 200
    with schema_context(business.schema):
        assert not Appointment.objects.exists() and not OutboxMessage.objects.exists()

    confirm(business, django_capture_on_commit_callbacks)
    page = client_for(business.host, "en").get("/book/").content.decode()
    assert NOT_OPEN not in page and "Choose a service" in page
    hold = public_post(
        business.host,
        "holds/",
        {"service": service.pk, "start": start.isoformat(), "form_token": aged_form_token()},
    )
    assert hold.status_code == 201
    booking = public_post(business.host, "bookings/", booking_body(service, start, hold=hold.json()["hold"]))
    assert booking.status_code == 201, booking.json()


def test_sms_are_skipped_with_a_reason_while_unconfirmed_and_sent_once_confirmed(
    shop, fake, django_capture_on_commit_callbacks
):
    business, service = shop
    gateway = Lox24Gateway(fake.url, fake.token)
    start = next_monday()
    # Booked while the business was confirmed; its address then counts as unconfirmed (e.g. a staff member
    # booked by phone in a business that never confirmed): the queued SMS must not go out.
    assert public_post(business.host, "bookings/", booking_body(service, start)).status_code == 201
    unconfirm(business)
    with schema_context(business.schema):
        # Sent: the customer's e-mail and the team's notice.
        assert outbox.outbox_send_due(tenant=business.tenant, sms=gateway) == {"skipped": 1, "sent": 2}
        sms = OutboxMessage.objects.get(channel="sms", kind="confirmation")
        assert sms.status == "skipped" and sms.reason == "email_unconfirmed"
        assert sms.text  # what would have been sent stays visible in the message log
    assert fake.messages == [] and fake.requests == 0
    # E-mails go out: to the customer, and the team's notice to the owner.
    assert sorted(m.to for m in mail.outbox) == [["lena.fischer@example.com"], [business.owner_username]]

    confirm(business, django_capture_on_commit_callbacks)
    later = booking_body(service, start + timedelta(hours=2))
    assert public_post(business.host, "bookings/", later).status_code == 201
    with schema_context(business.schema):
        assert outbox.outbox_send_due(tenant=business.tenant, sms=gateway) == {"sent": 3}
    assert len(fake.messages) == 1 and fake.messages[0]["phone"] == "+491701234567"


def test_a_customer_can_still_cancel_while_unconfirmed(shop):
    business, service = shop
    booked = public_post(business.host, "bookings/", booking_body(service, next_monday()))
    token = booked.json()["manage_token"]
    unconfirm(business)
    assert public_post(business.host, f"bookings/{token}/cancel/").status_code == 200
    moved = public_post(business.host, f"bookings/{token}/reschedule/", {"start": next_monday().isoformat()})
    assert moved.status_code == 403 and moved.json()["detail"] == NOT_OPEN
