"""The team hears of what customers do online (booked, moved, cancelled), once, through the outbox; staff
members who asked for it get their agenda of the day each morning."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from termino import celery_app
from termino.platform.duework import due
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.notifications.tasks import queue_agendas
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Resource
from tests.fakes.lox24 import FakeLox24
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import BERLIN, next_monday, salon

TEAM_KINDS = ("team_booked", "team_moved", "team_cancelled")


def team_rows():
    return OutboxMessage.objects.filter(kind__in=(*TEAM_KINDS, "agenda")).order_by("pk")


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


def test_an_online_booking_tells_the_team_once_through_the_worker(committed_db, settings, mailoutbox):
    business = committed_db("t-team-notice")
    with schema_context(business.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_sms_to": "+4917099999999"})
    connection.set_schema_to_public()
    assert public_post(business.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with FakeLox24() as fake:
        settings.SMS_BACKEND, settings.LOX24_API_URL, settings.LOX24_TOKEN = "lox24", fake.url, fake.token
        with start_worker(celery_app, perform_ping_check=False, loglevel="WARNING"):
            for _ in range(2):  # two beat ticks: the second must find nothing left to send
                celery_app.send_task("tenancy.fan_out", kwargs={"task_name": "notifications.send_due"})
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with schema_context(business.schema):
                    if not team_rows().exclude(status="sent").exists():
                        break
                time.sleep(0.2)
            time.sleep(1)  # let the second tick run too
        team_sms = [m for m in fake.messages if m["phone"] == "+4917099999999"]
    assert len(team_sms) == 1 and "online" in team_sms[0]["text"]
    team_mail = [m for m in mailoutbox if m.to == [f"owner@{business.tenant.slug}.example"]]
    assert len(team_mail) == 1
    assert team_mail[0].subject.startswith("Neue Online-Buchung: Haarschnitt")  # the owner's language
    assert "Lena Fischer hat online einen Termin gebucht." in team_mail[0].body
    assert "/calendar/?date=" in team_mail[0].body and not team_mail[0].attachments
    with schema_context(business.schema):
        assert set(team_rows().values_list("channel", "status")) == {("email", "sent"), ("sms", "sent")}


@pytest.mark.django_db
@pytest.mark.clock
def test_moves_and_cancellations_online_tell_the_team_with_old_and_new_time(
    business_a, business_b, mailoutbox
):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    start = next_monday()
    response = public_post(business_a.host, "bookings/", booking_body(service, start))
    token = response.json()["manage_token"]
    later = start + timedelta(hours=2)
    moved = public_post(business_a.host, f"bookings/{token}/reschedule/", {"start": later.isoformat()})
    assert moved.status_code == 200
    assert public_post(business_a.host, f"bookings/{token}/cancel/").status_code == 200
    with schema_context(business_a.schema):
        rows = list(team_rows())
        assert [(m.kind, m.channel) for m in rows] == [(kind, "email") for kind in TEAM_KINDS]
        assert {m.recipient for m in rows} == {business_a.owner_username}
        assert all(m.customer_id is None and m.appointment_id for m in rows)
        moved = rows[1]
        assert "Vorher: " in moved.text and "Jetzt: " in moved.text
        assert (
            f"{start.astimezone(BERLIN):%H:%M}" in moved.text
            and f"{later.astimezone(BERLIN):%H:%M}" in moved.text
        )
        services.outbox_send_due(tenant=business_a.tenant)
        assert set(team_rows().values_list("status", flat=True)) == {"sent"}
    subjects = [m.subject for m in mailoutbox if m.to == [business_a.owner_username]]
    assert [s.split(":")[0] for s in subjects] == [
        "Neue Online-Buchung",
        "Online verschoben",
        "Online abgesagt",
    ]
    with schema_context(business_b.schema):
        assert not team_rows().exists()  # B hears nothing of A


@pytest.mark.django_db
def test_changes_by_the_team_tell_no_one_in_the_team(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        appointment = lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[0]),
        )
        lifecycle.appointment_cancel(actor=Actor(source="backoffice"), appointment=appointment)
        assert not team_rows().exists()


@pytest.mark.django_db
def test_a_chosen_address_or_none_at_all(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email_to": "desk@example.com"})
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with schema_context(business_a.schema):
        assert list(team_rows().values_list("recipient", flat=True)) == ["desk@example.com"]
        BusinessSettings.objects.update(team_notice_email=False)
    body = booking_body(
        service, next_monday() + timedelta(hours=1), email="other@example.com", phone="", sms_consent=False
    )
    response = public_post(business_a.host, "bookings/", body)
    assert response.status_code == 201, response.content
    with schema_context(business_a.schema):
        assert team_rows().count() == 1


@pytest.mark.django_db
def test_the_owner_sets_the_notices_on_the_messages_page(business_a):
    owner = log_in_as(business_a, language="de")
    page = owner.get("/settings/messages/").content.decode()
    assert "Hinweise an Ihr Team" in page
    data = {"quiet_hours_start": "21", "quiet_hours_end": "8", "team_notice_email": "on"}
    bad = owner.post("/settings/messages/", {**data, "team_notice_sms_to": "030 1234567"})
    assert bad.status_code == 400
    good = owner.post(
        "/settings/messages/",
        {**data, "team_notice_sms_to": "0170 9999999", "team_notice_email_to": "desk@example.com"},
    )
    assert good.status_code == 302
    with schema_context(business_a.schema):
        rules = BusinessSettings.current()
        assert (rules.team_notice_sms_to, rules.team_notice_email_to) == ("+491709999999", "desk@example.com")


# --- The daily agenda ---------------------------------------------------------------------------------------


@pytest.fixture
def agenda_day(business_a):
    """Anna (opted in) and Ben (not) with appointments on Wednesday 13 January 2027, booked the day before."""
    anna = make_user(business_a, "staff", staff_name="Anna")
    ben = make_user(business_a, "staff", staff_name="Ben")
    with schema_context(business_a.schema):
        service, _staff, _room = salon(staff_count=0)
        columns = {c.name: c for c in Resource.objects.filter(name__in=["Anna", "Ben"])}
        service.resources.add(*columns.values())
        with time_machine.travel(berlin("2027-01-12 12:00"), tick=True):
            for name, hour in (("Anna", "14:00"), ("Anna", "09:00"), ("Ben", "10:00")):
                lifecycle.appointment_book(
                    actor=Actor(source="backoffice"),
                    booking=scheduling.Booking(
                        service=service, start=berlin(f"2027-01-13 {hour}"), staff=columns[name]
                    ),
                )
            lifecycle.appointment_book(  # another day: not on the agenda
                actor=Actor(source="backoffice"),
                booking=scheduling.Booking(
                    service=service, start=berlin("2027-01-14 09:00"), staff=columns["Anna"]
                ),
            )
        get_user_model().objects.filter(pk=anna.pk).update(agenda_email=True)
    return anna, ben


def run_agendas(business) -> int:
    return queue_agendas.apply(kwargs={"schema_name": business.schema}).get()


@pytest.mark.django_db
def test_the_agenda_goes_out_once_in_the_morning_to_who_asked(business_a, business_b, agenda_day, mailoutbox):
    anna, _ben = agenda_day
    with time_machine.travel(berlin("2027-01-13 06:55"), tick=True):
        assert run_agendas(business_a) == 0  # too early
    with time_machine.travel(berlin("2027-01-13 07:05"), tick=True):
        assert run_agendas(business_a) == 1
        assert run_agendas(business_a) == 0  # once a day
    assert run_agendas(business_b) == 0
    [mail] = mailoutbox
    assert mail.to == [anna.email]
    assert mail.subject == "Ihre Termine am Mittwoch, 13. Januar 2027"
    assert mail.body.index("09:00–09:30") < mail.body.index("14:00–14:30")
    assert "10:00" not in mail.body  # Ben's
    with time_machine.travel(berlin("2027-01-13 12:00"), tick=True):
        assert run_agendas(business_a) == 0
    with schema_context(business_a.schema):
        assert list(team_rows().values_list("kind", "status")) == [("agenda", "sent")]


@pytest.mark.django_db
def test_staff_opt_in_on_their_account_page(business_a):
    with_column = make_user(business_a, "staff", staff_name="Cem")
    client = log_in_as(business_a, user=with_column, language="de")
    assert "Tagesplan" in client.get("/account/agenda/").content.decode()
    assert client.post("/account/agenda/", {"agenda_email": "on"}).status_code == 302
    with schema_context(business_a.schema):
        assert get_user_model().objects.get(pk=with_column.pk).agenda_email is True
    without = log_in_as(business_a, "manager")
    response = without.post("/account/agenda/", {"agenda_email": "on"})
    assert response.status_code == 400 and "no calendar column" in response.content.decode()


@pytest.mark.django_db
def test_a_team_notice_can_be_sent_again(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway("http://127.0.0.1:9", "x"))
        notice = team_rows().get()
        owner = get_user_model().objects.get(role="owner")
        resend = services.outbox_resend(message_id=notice.pk, requested_by=owner, tenant=business_a.tenant)
        assert (resend.subject, resend.text) == (notice.subject, notice.text)


@pytest.mark.django_db
def test_the_due_index_visits_for_the_agenda_once_a_morning(business_a, agenda_day, mailoutbox):
    """No 15-minute fan-out over every business: the agenda is due work, at 07:00 local time."""
    agenda = due.kinds()["notifications.agenda"]
    with schema_context(business_a.schema):
        with time_machine.travel(berlin("2027-01-13 06:00"), tick=False):
            assert agenda.next_due() == berlin("2027-01-13 07:00")
        with time_machine.travel(berlin("2027-01-13 07:05"), tick=False):
            assert agenda.next_due() == berlin("2027-01-13 07:05")  # due now, until today's run is made
            assert agenda.run() == 1
            assert agenda.next_due() == berlin("2027-01-14 07:00")
        get_user_model().objects.update(agenda_email=False)
        assert agenda.next_due() is None
