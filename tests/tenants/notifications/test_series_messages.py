"""An appointment series reaches the customer as one message with every date (e-mail and SMS), the e-mail
with one calendar file holding every occurrence; cancelling or moving "this and following" sends one
change message with the dates still to come. Reminders stay per occurrence."""

from datetime import time
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.utils import translation
from django.utils.formats import date_format
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import series
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.recurrence import Recurrence
from tests.fakes.lox24 import FakeLox24
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
BERLIN = ZoneInfo("Europe/Berlin")
STAFF = Actor(source="backoffice")


@pytest.fixture
def booked(business_a):
    with schema_context(business_a.schema):
        service, (anna, _ben), _room = salon(name="Krankengymnastik")
        BusinessSettings.objects.update_or_create(id=1, defaults={"team_notice_email": False})
        lena = Customer.objects.create(
            first_name="Lena", last_name="Vogel", email="lena@example.com", phone="+491701234567"
        )
        Consent.objects.create(customer=lena, kind="privacy", granted=True, source="test")
        Consent.objects.create(customer=lena, kind="sms_reminders", granted=True, source="test")
        first = timeutils.local_date(next_monday(), BERLIN)
        made = series.series_book(
            actor=STAFF,
            service=service,
            recurrence=Recurrence(first_date=first, time=time(10), frequency="weekly", count=6),
            zone=BERLIN,
            staff=anna,
            customer=lena,
        )
        yield business_a, made, list(made.appointments.order_by("start"))


def german_date(moment) -> str:
    with translation.override("de"):
        return date_format(timeutils.localtime(moment, BERLIN), "l, j. F Y") + ", 10:00"


def send(business, fake):
    return services.outbox_send_due(tenant=business.tenant, sms=Lox24Gateway(fake.url, fake.token))


def test_one_message_with_all_dates_and_one_calendar_file_with_every_occurrence(booked):
    business, _made, occurrences = booked
    now_due = OutboxMessage.objects.filter(due_at__lte=timeutils.now())
    assert sorted(now_due.values_list("kind", "channel")) == [("series", "email"), ("series", "sms")]
    # Reminders still come before each appointment.
    reminders = OutboxMessage.objects.filter(kind="reminder")
    assert {m.appointment_id for m in reminders} == {a.pk for a in occurrences}

    with FakeLox24() as fake:
        assert send(business, fake) == {"sent": 2}
        (sms,) = fake.messages
    dates = [german_date(a.start) for a in occurrences]
    assert all(date in sms["text"] for date in dates), sms["text"]
    (email,) = mail.outbox
    assert email.to == ["lena@example.com"] and email.subject.startswith("Ihre Termine bei")
    assert all(date in email.body for date in dates), email.body
    name, content, kind = email.attachments[0]
    assert (name, kind) == ("termine.ics", "text/calendar")
    events = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [a.start for a in occurrences]
    assert {str(e["status"]) for e in events} == {"CONFIRMED"}


def test_cancelling_this_and_following_sends_one_change_message(booked):
    business, _made, occurrences = booked
    OutboxMessage.objects.filter(kind="series").update(status="sent")
    series.series_cancel(actor=STAFF, appointment=occurrences[4], scope="following")
    changes = OutboxMessage.objects.filter(kind="series_change")
    assert sorted(changes.values_list("channel", flat=True)) == ["email", "sms"]
    assert not OutboxMessage.objects.filter(kind="cancellation").exists()
    # The reminders of the cancelled dates are gone, the others stay.
    reminded = set(OutboxMessage.objects.filter(kind="reminder").values_list("appointment_id", flat=True))
    assert reminded == {a.pk for a in occurrences[:4]}
    with FakeLox24() as fake:
        assert send(business, fake) == {"sent": 2}
    (email,) = mail.outbox
    assert all(german_date(a.start) in email.body for a in occurrences[:4])
    assert not any(german_date(a.start) in email.body for a in occurrences[4:])
    events = icalendar.Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")
    assert [str(e["status"]) for e in events] == ["CONFIRMED"] * 4 + ["CANCELLED"] * 2


def test_moving_this_and_following_sends_one_change_message(booked):
    _business, _made, occurrences = booked
    OutboxMessage.objects.filter(kind="series").update(status="sent")
    new_start = timeutils.local_at(timeutils.local_date(occurrences[2].start, BERLIN), time(11), BERLIN)
    series.series_move(
        actor=STAFF, appointment=occurrences[2], start=new_start, zone=BERLIN, scope="following"
    )
    assert OutboxMessage.objects.filter(kind="series_change").count() == 2
    assert not OutboxMessage.objects.filter(kind="change").exists()


def test_a_single_occurrence_cancelled_gets_the_usual_message(booked):
    _business, _made, occurrences = booked
    series.series_cancel(actor=STAFF, appointment=occurrences[1], scope="this")
    assert OutboxMessage.objects.filter(kind="cancellation", appointment=occurrences[1]).count() == 2
    assert not OutboxMessage.objects.filter(kind="series_change").exists()


def test_an_occurrence_that_ends_up_the_only_date_is_no_problem(business_a):
    with schema_context(business_a.schema):
        service, (anna, _ben), _room = salon()
        customer = Customer.objects.create(first_name="Ida", last_name="Ein", email="ida@example.com")
        Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
        start = next_monday()
        made = series.series_book(
            actor=STAFF,
            service=service,
            recurrence=Recurrence(
                first_date=timeutils.local_date(start, BERLIN), time=time(10), frequency="daily", count=2
            ),
            zone=BERLIN,
            staff=anna,
            customer=customer,
            starts=[start],
        )
        assert made.appointments.count() == 1
        assert OutboxMessage.objects.filter(kind="series", channel="email").count() == 1
        assert made.appointments.get().start == start
