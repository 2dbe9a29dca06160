from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Customer
from termino.tenants.notifications import services
from termino.tenants.notifications.events import outside_quiet_hours
from termino.tenants.notifications.models import OutboxMessage
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(
            id=1,
            defaults={"team_notice_email": False},
            # Customer messages only (the team's: test_team_notices.py).
        )
    return business_a, service


def queued(business, kind):
    with schema_context(business.schema):
        return sorted(
            OutboxMessage.objects.filter(kind=kind, status="queued").values_list("channel", "due_at"),
        )


def test_reminders_at_the_lead_times_and_none_in_quiet_hours(shop):
    business, service = shop
    start = next_monday().replace(hour=9)  # 24 h before: Sunday 09:00; 2 h before: 07:00, in quiet hours
    public_post(business.host, "bookings/", booking_body(service, start))
    reminders = queued(business, "reminder")
    assert ("email", start - timedelta(hours=24)) in reminders
    assert ("email", start - timedelta(hours=2)) in reminders
    assert ("sms", start - timedelta(hours=24)) in reminders
    # The 2-hour SMS would fall at 07:00: moved to the end of the quiet hours (08:00).
    assert ("sms", start - timedelta(hours=1)) in reminders
    assert len(reminders) == 4


def test_reminders_already_past_are_skipped(shop):
    business, service = shop
    with schema_context(business.schema):
        # 2,000 hours (~83 days) before an appointment next week lies in the past.
        BusinessSettings.objects.update_or_create(id=1, defaults={"reminder_hours": "2000,24"})
    start = next_monday().replace(hour=15)
    public_post(business.host, "bookings/", booking_body(service, start, sms_consent=False))
    assert [due for _channel, due in queued(business, "reminder")] == [start - timedelta(hours=24)]


def test_move_replaces_pending_reminders_and_cancel_skips_them(shop):
    business, service = shop
    start = next_monday().replace(hour=11)
    token = public_post(business.host, "bookings/", booking_body(service, start)).json()["manage_token"]
    later = start + timedelta(days=1)
    assert (
        public_post(business.host, f"bookings/{token}/reschedule/", {"start": later.isoformat()}).status_code
        == 200
    )
    dues = {due for _channel, due in queued(business, "reminder")}
    assert dues == {later - timedelta(hours=24), later - timedelta(hours=2)}
    assert {c for c, _due in queued(business, "change")} == {"email", "sms"}
    assert public_post(business.host, f"bookings/{token}/cancel/").status_code == 200
    assert queued(business, "reminder") == []
    assert {c for c, _due in queued(business, "cancellation")} == {"email", "sms"}


def test_nothing_is_sent_without_consent(shop, business_a):
    business, service = shop
    with schema_context(business.schema):
        customer = Customer.objects.create(last_name="Ohne", email="ohne@example.com", phone="+491709999999")
    client = __import__("tests.conftest", fromlist=["client_for"]).client_for(business.host, "en")
    token = client.post(
        "/api/v1/auth/token/", {"username": business.owner_username, "password": business.password}
    ).json()["token"]
    response = client.post(
        "/api/v1/appointments/",
        {"service": service.pk, "start": next_monday().isoformat(), "customer": customer.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 201
    with schema_context(business.schema):
        assert not OutboxMessage.objects.exists()


def test_every_message_kind_renders_and_sends(shop):
    business, service = shop
    start = next_monday().replace(hour=11)
    token = public_post(business.host, "bookings/", booking_body(service, start)).json()["manage_token"]
    public_post(
        business.host, f"bookings/{token}/reschedule/", {"start": (start + timedelta(hours=1)).isoformat()}
    )
    public_post(business.host, f"bookings/{token}/cancel/")
    with schema_context(business.schema):
        OutboxMessage.objects.update(due_at=timezone.now())
    with FakeLox24() as fake, schema_context(business.schema):
        counts = services.outbox_send_due(tenant=business.tenant, sms=Lox24Gateway(fake.url, fake.token))
        texts = [m["text"] for m in fake.messages]
    assert counts == {"sent": 6}  # confirmation, change and cancellation, each by e-mail and SMS
    assert any("gebucht" in t for t in texts) and any("verschoben" in t or "verlegt" in t for t in texts)
    assert any("abgesagt" in t or "storniert" in t for t in texts)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-12-01 20:59", "2026-12-01 20:59"),
        ("2026-12-01 21:00", "2026-12-02 08:00"),
        ("2026-12-02 03:00", "2026-12-02 08:00"),
        ("2026-12-02 08:00", "2026-12-02 08:00"),
    ],
)
def test_quiet_hours(local, expected):
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN)
    shifted = outside_quiet_hours(moment, zone=BERLIN, start_hour=21, end_hour=8)
    assert shifted.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == expected


def test_reminder_lead_times_come_from_the_business_settings(shop):
    business, service = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"reminder_hours": "48, 3"})
    start = next_monday().replace(hour=15)
    public_post(business.host, "bookings/", booking_body(service, start, sms_consent=False))
    assert [due for _c, due in queued(business, "reminder")] == [
        start - timedelta(hours=48),
        start - timedelta(hours=3),
    ]
