"""Past confirmed appointments become completed once their day has ended in the business's zone."""

import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from termino.platform.duework import due
from termino.platform.tenancy.models import Tenant
from termino.shared import timeutils
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling import events, lifecycle, services
from termino.tenants.scheduling.due import COMPLETION
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment
from termino.tenants.scheduling.tasks import complete_past
from tests.tenants.backoffice.helpers import log_in_as

from .factories import BERLIN, next_monday, salon

STAFF = Actor(source="backoffice")


def berlin(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN, fold=fold).astimezone(UTC)


def book(service, staff, start: datetime, status: str = "confirmed") -> Appointment:
    return lifecycle.appointment_book(
        actor=STAFF, booking=services.Booking(service=service, start=start, staff=staff), status=status
    )


def run(schema: str) -> int:
    return complete_past.apply(kwargs={"schema_name": schema}).get()


def status(appointment: Appointment) -> str:
    return Appointment.objects.get(pk=appointment.pk).status


@pytest.fixture
def seen():
    """(kind, actor source) of every event published while the test runs."""
    kinds = []

    def record(event):
        before = event.before.status if event.before else None
        kinds.append((event.kind, event.actor.source, before, event.after.status))

    events.subscribe(record)
    yield kinds
    events._in_transaction.remove(record)


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
        yield service, staff


@pytest.mark.django_db
@pytest.mark.clock
def test_the_evening_of_the_day_is_too_early_just_after_midnight_is_not(business_a, shop, seen):
    service, staff = shop
    start = next_monday(time(16))
    day = timeutils.local_date(start, BERLIN)
    appointment = book(service, staff[0], start)
    no_show = book(service, staff[1], start)
    requested = book(service, staff[0], start + timedelta(hours=1), status="requested")
    cancelled = book(service, staff[1], start + timedelta(hours=1))
    lifecycle.appointment_cancel(actor=STAFF, appointment=cancelled)
    with time_machine.travel(start + timedelta(minutes=40), tick=True):
        lifecycle.appointment_no_show(actor=STAFF, appointment=no_show)
    seen.clear()

    with time_machine.travel(timeutils.local_at(day, time(23, 59), BERLIN), tick=True):
        assert run(business_a.schema) == 0
        with schema_context(business_a.schema):
            assert status(appointment) == "confirmed"
    with time_machine.travel(timeutils.local_at(day + timedelta(days=1), time(0, 0, 30), BERLIN), tick=True):
        assert run(business_a.schema) == 1
        assert run(business_a.schema) == 0  # idempotent: nothing left
    with schema_context(business_a.schema):
        assert status(appointment) == "completed"
        assert Appointment.objects.get(pk=appointment.pk).changed_by is None
        untouched = (status(no_show), status(requested), status(cancelled))
        assert untouched == ("no_show", "requested", "cancelled")
    assert seen == [("completed", "system", "confirmed", "completed")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts", "not_yet", "done"),
    [
        # Spring forward: the Saturday's appointment is completed in the short night, Sunday's a day later.
        ("2027-03-27 17:00", "2027-03-27 23:59", "2027-03-28 00:00:30"),
        ("2027-03-27 17:00", "2027-03-27 23:00", "2027-03-28 03:01"),
        # Fall back: 02:30 happens twice; both are after midnight.
        ("2027-10-30 17:00", "2027-10-30 23:59:59", "2027-10-31 02:30"),
        # Year end.
        ("2027-12-31 17:00", "2027-12-31 23:59", "2028-01-01 00:00:30"),
    ],
)
def test_dst_nights_and_the_year_end(business_a, shop, starts, not_yet, done):
    service, staff = shop
    with time_machine.travel(berlin(starts) - timedelta(days=3), tick=True):
        appointment = book(service, staff[0], berlin(starts))
    with time_machine.travel(berlin(not_yet), tick=True):
        run(business_a.schema)
    with schema_context(business_a.schema):
        assert status(appointment) == "confirmed"
    for fold in (0, 1):
        with time_machine.travel(berlin(done, fold=fold), tick=True):
            run(business_a.schema)
        with schema_context(business_a.schema):
            assert status(appointment) == "completed"


@pytest.mark.django_db
def test_an_appointment_past_midnight_waits_for_its_end(business_a, shop):
    service, staff = shop
    with time_machine.travel(berlin("2027-01-11 12:00"), tick=True):
        late = lifecycle.appointment_book(
            actor=STAFF,
            booking=services.Booking(service=service, start=berlin("2027-01-11 23:45"), staff=staff[0]),
        )
    with time_machine.travel(berlin("2027-01-12 00:05"), tick=True):
        run(business_a.schema)
        with schema_context(business_a.schema):
            assert status(late) == "confirmed"  # still going on
    with time_machine.travel(berlin("2027-01-12 00:20"), tick=True):
        run(business_a.schema)
        with schema_context(business_a.schema):
            assert status(late) == "completed"


@pytest.mark.django_db
def test_the_day_ends_in_the_business_zone(business_a, shop):
    service, staff = shop
    with time_machine.travel(berlin("2027-01-11 12:00"), tick=True):
        appointment = book(service, staff[0], berlin("2027-01-11 17:00"))
    Tenant.objects.filter(pk=business_a.tenant.pk).update(time_zone="Europe/London")
    with time_machine.travel(berlin("2027-01-12 00:30"), tick=True):  # 23:30 in London
        run(business_a.schema)
        with schema_context(business_a.schema):
            assert status(appointment) == "confirmed"
    with time_machine.travel(berlin("2027-01-12 01:30"), tick=True):
        run(business_a.schema)
        with schema_context(business_a.schema):
            assert status(appointment) == "completed"


@pytest.mark.django_db
def test_setting_off_leaves_past_appointments_alone_and_b_is_not_touched(business_a, business_b, shop):
    service, staff = shop
    with time_machine.travel(berlin("2027-01-11 12:00"), tick=True):
        mine = book(service, staff[0], berlin("2027-01-11 15:00"))
        with schema_context(business_b.schema):
            b_service, b_staff, _room = salon()
            theirs = book(b_service, b_staff[0], berlin("2027-01-11 15:00"))
    with schema_context(business_a.schema):
        BusinessSettings.objects.filter(pk=BusinessSettings.current().pk).update(auto_complete=False)
    assert run(business_a.schema) == 0
    with schema_context(business_a.schema):
        assert status(mine) == "confirmed"
        BusinessSettings.objects.update(auto_complete=True)
    assert run(business_a.schema) == 1
    with schema_context(business_a.schema):
        assert status(mine) == "completed"
    with schema_context(business_b.schema):
        assert status(theirs) == "confirmed"  # A's run never reaches B
    assert run(business_b.schema) == 1


@pytest.mark.django_db
def test_the_due_index_knows_when_completion_is_due(business_a, shop, django_capture_on_commit_callbacks):
    """A confirmed booking marks the end of its local day; beat's dispatcher visits the business then."""
    service, staff = shop
    day_ends = timeutils.local_midnight(next_monday().date() + timedelta(days=1), BERLIN)
    with django_capture_on_commit_callbacks(execute=False):
        book(service, staff[0], next_monday())
    assert due.waiting()[business_a.schema, COMPLETION] == day_ends  # written when the booking commits
    assert due.kinds()[COMPLETION].next_due() == day_ends
    BusinessSettings.objects.update(auto_complete=False)
    assert due.kinds()[COMPLETION].next_due() is None


def test_two_runs_at_once_complete_each_appointment_once(committed_db, seen):
    business = committed_db("t-complete-race")
    count = 40
    with schema_context(business.schema):
        service, staff, _room = salon(staff_count=2)
        with time_machine.travel(berlin("2027-01-04 08:00"), tick=True):
            for n in range(count):
                day = date(2027, 1, 4) + timedelta(days=n // 16)
                start = timeutils.shift(timeutils.local_at(day, time(9), BERLIN), minutes=30 * (n % 8))
                book(service, staff[(n // 8) % 2], start)
        seen.clear()
    connection.set_schema_to_public()
    runs = 4
    barrier = threading.Barrier(runs)
    results: list = []

    def beat_tick() -> None:
        try:
            barrier.wait()
            results.append(run(business.schema))
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat_tick) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == count
    assert len(seen) == count  # one event per appointment, whichever run completed it
    with schema_context(business.schema):
        assert set(Appointment.objects.values_list("status", flat=True)) == {"completed"}


@pytest.mark.django_db
def test_the_owner_turns_it_off_on_the_booking_rules_page(business_a):
    owner = log_in_as(business_a, language="de")
    page = owner.get("/settings/booking/").content.decode()
    assert "Vergangene Termine als erledigt markieren" in page
    assert re.search(r'<input type="checkbox" name="auto_complete"[^>]* checked', page)
    data = {"cancel_cutoff_hours": "24", "max_open_bookings": "3", "allowed_origins": ""}
    assert owner.post("/settings/booking/", data).status_code == 302
    with schema_context(business_a.schema):
        assert BusinessSettings.current().auto_complete is False
    assert owner.post("/settings/booking/", {**data, "auto_complete": "on"}).status_code == 302
    with schema_context(business_a.schema):
        assert BusinessSettings.current().auto_complete is True
