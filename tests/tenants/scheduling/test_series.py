"""Appointment series: the rule's dates, the preview (free / taken with reason and alternative), booking all
or nothing, moving and cancelling one occurrence or this and all following ones."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.errors import NotPermitted
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.scheduling import lifecycle, series, services
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment, AppointmentChange, Closure, Series, WeeklyHours
from termino.tenants.scheduling.recurrence import Recurrence, RecurrenceError
from termino.tenants.scheduling.series_selectors import occurrences_check, series_needs
from tests.tenants.backoffice.helpers import make_user

from .factories import salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
BERLIN = ZoneInfo("Europe/Berlin")
STAFF = Actor(source="backoffice")


def next_tuesday() -> date:
    """A Tuesday at least three days ahead, whatever the pinned clock shows."""
    return timeutils.next_weekday(1, BERLIN, after=timeutils.today(BERLIN) + timedelta(days=2))


def weekly(first: date, count: int = 6, at: time = time(8), **fields) -> Recurrence:
    return Recurrence(first_date=first, time=at, frequency="weekly", count=count, **fields)


@pytest.fixture
def physio(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon(name="Krankengymnastik", duration_minutes=30, staff_count=2)
        # A physiotherapy opens at 07:00 (the factory's hours start at 09:00).
        WeeklyHours.objects.all().delete()
        for weekday in range(6):
            WeeklyHours.objects.create(weekday=weekday, start=time(7), end=time(18))
        customer = Customer.objects.create(first_name="Lena", last_name="Vogel", email="lena@example.com")
        Consent.objects.create(customer=customer, kind="privacy", granted=True, source="test")
        yield service, staff, customer


def book_one(service, staff, start):
    return lifecycle.appointment_book(
        actor=STAFF, booking=services.Booking(service=service, start=start, staff=staff)
    )


# --- The rule ----------------------------------------------------------------------------------------------


def test_weekly_rule_on_chosen_weekdays_until_a_date():
    rule = Recurrence(
        first_date=date(2027, 2, 1), time=time(8), weekdays=(1, 3), until=date(2027, 2, 14), count=None
    )
    assert rule.dates() == [date(2027, 2, 2), date(2027, 2, 4), date(2027, 2, 9), date(2027, 2, 11)]


def test_every_second_day_n_times():
    rule = Recurrence(first_date=date(2027, 2, 1), time=time(8), frequency="daily", interval=2, count=3)
    assert rule.dates() == [date(2027, 2, 1), date(2027, 2, 3), date(2027, 2, 5)]


def test_weekly_08_00_stays_08_00_local_across_the_spring_change():
    rule = weekly(date(2027, 3, 16), count=3)  # Tuesdays 16, 23 and 30 March; clocks change on the 28th
    starts = rule.starts(BERLIN)
    assert [timeutils.localtime(s, BERLIN).time() for s in starts] == [time(8)] * 3
    assert [s.hour for s in starts] == [7, 7, 6]  # 08:00 CET, 08:00 CET, 08:00 CEST in UTC


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"count": 53}, "at most 52"),
        ({"count": None, "until": date(2028, 6, 30)}, "more than 52"),
        ({"count": 0}, "at most 52"),
        ({"count": None}, "how the series ends"),
        ({"interval": 0}, "every 1 to 52"),
        ({"count": 2, "until": date(2027, 3, 1)}, "how the series ends"),
        ({"count": None, "until": date(2027, 1, 1)}, "on or after"),
    ],
)
def test_rules_that_cannot_be_booked_say_why(fields, words):
    rule = Recurrence(**{"first_date": date(2027, 2, 2), "time": time(8), "frequency": "weekly", **fields})
    with pytest.raises(RecurrenceError, match=words):
        rule.dates()


# --- Preview and booking ---------------------------------------------------------------------------------


def test_preview_lists_the_conflict_with_reason_and_nearest_free_alternative(physio):
    service, (anna, _ben), _customer = physio
    first = next_tuesday()
    other = timeutils.local_at(first + timedelta(weeks=2), time(7, 45), BERLIN)
    book_one(service, anna, other)
    starts = weekly(first).starts(BERLIN)
    checks = occurrences_check(
        needs=series_needs(service=service, staff=anna, room=None), starts=starts, zone=BERLIN
    )
    assert [c.free for c in checks] == [True, True, False, True, True, True]
    taken = checks[2]
    assert "Staff 1 is already booked from 07:45 to 08:15 (Krankengymnastik)" in taken.reason
    # Nearest free: right after the other appointment (07:15 would be 45 minutes off), the same day.
    assert taken.alternative.start == timeutils.shift(other, minutes=30)
    assert taken.alternative.staff_id == anna.pk


def test_a_holiday_and_an_absence_are_taken_with_their_reason(physio):
    service, (anna, _ben), _customer = physio
    first = next_tuesday()
    day = first + timedelta(weeks=1)
    Closure.objects.create(
        start=timeutils.local_midnight(day, BERLIN),
        end=timeutils.local_midnight(day + timedelta(days=1), BERLIN),
        reason="Betriebsausflug",
    )
    services.resource_block(
        resource=anna,
        start=timeutils.local_at(first + timedelta(weeks=3), time(7), BERLIN),
        end=timeutils.local_at(first + timedelta(weeks=3), time(12), BERLIN),
        reason="Fortbildung",
    )
    checks = occurrences_check(
        needs=series_needs(service=service, staff=anna, room=None),
        starts=weekly(first).starts(BERLIN),
        zone=BERLIN,
    )
    assert "closed (Betriebsausflug)" in checks[1].reason
    assert "Staff 1 is away (Fortbildung)" in checks[3].reason
    # The holiday's alternative lies on another day; the absence's after it ends.
    assert timeutils.local_date(checks[1].alternative.start, BERLIN) != day
    assert checks[3].alternative.start == timeutils.local_at(first + timedelta(weeks=3), time(12), BERLIN)


def test_booking_all_of_a_rule_with_a_conflict_stores_nothing(physio):
    service, (anna, _ben), customer = physio
    first = next_tuesday()
    book_one(service, anna, timeutils.local_at(first + timedelta(weeks=4), time(8), BERLIN))
    before = Appointment.objects.count()
    with pytest.raises(services.Conflict, match="Nothing was booked: 1 date is taken"):
        series.series_book(
            actor=STAFF, service=service, recurrence=weekly(first), zone=BERLIN, staff=anna, customer=customer
        )
    assert Appointment.objects.count() == before
    assert not Series.objects.exists()


def test_the_dialog_case_six_weeks_with_one_conflict_resolved_by_its_alternative(physio):
    service, (anna, _ben), customer = physio
    first = next_tuesday()
    book_one(service, anna, timeutils.local_at(first + timedelta(weeks=2), time(8), BERLIN))
    rule = weekly(first)
    checks = occurrences_check(
        needs=series_needs(service=service, staff=anna, room=None), starts=rule.starts(BERLIN), zone=BERLIN
    )
    chosen = [c.start if c.free else c.alternative.start for c in checks]
    made = series.series_book(
        actor=STAFF,
        service=service,
        recurrence=rule,
        zone=BERLIN,
        staff=anna,
        customer=customer,
        starts=chosen,
    )
    occurrences = list(made.appointments.order_by("start"))
    assert [a.start for a in occurrences] == chosen
    assert {a.customer_id for a in occurrences} == {customer.pk}
    assert all(a.allocations.get().resource_id == anna.pk for a in occurrences)
    assert (made.frequency, made.count, made.time, made.first_date) == ("weekly", 6, time(8), first)
    # Every occurrence has its own history line, like any booking.
    assert AppointmentChange.objects.filter(appointment__series=made, kind="created").count() == 6


def test_booking_only_the_free_ones(physio):
    service, (anna, _ben), customer = physio
    first = next_tuesday()
    book_one(service, anna, timeutils.local_at(first + timedelta(weeks=1), time(8), BERLIN))
    rule = weekly(first, count=3)
    checks = occurrences_check(
        needs=series_needs(service=service, staff=anna, room=None), starts=rule.starts(BERLIN), zone=BERLIN
    )
    made = series.series_book(
        actor=STAFF,
        service=service,
        recurrence=rule,
        zone=BERLIN,
        staff=anna,
        customer=customer,
        starts=[c.start for c in checks if c.free],
    )
    assert made.appointments.count() == 2


def test_chosen_dates_are_checked(physio):
    service, (anna, _ben), _customer = physio
    rule = weekly(next_tuesday())
    start = rule.starts(BERLIN)[0]
    for starts, words in (
        ([], "at least one"),
        ([start, start], "chosen twice"),
        ([start] * 53, "at most 52"),
    ):
        with pytest.raises(services.SchedulingError, match=words):
            series.series_book(
                actor=STAFF, service=service, recurrence=rule, zone=BERLIN, staff=anna, starts=starts
            )


def test_a_staff_member_books_series_only_in_their_own_column(physio, business_a):
    service, (anna, ben), customer = physio
    user = make_user(business_a, "staff")
    anna.user = user
    anna.save()
    with pytest.raises(NotPermitted):
        series.series_book(
            actor=Actor(source="backoffice", user=user),
            service=service,
            recurrence=weekly(next_tuesday(), count=2),
            zone=BERLIN,
            staff=ben,
            customer=customer,
        )
    assert not Series.objects.exists()
    assert not Appointment.objects.exists()


def test_dst_crossing_series_keeps_its_local_time(physio):
    service, (anna, _ben), customer = physio
    # A series of Tuesdays over the next daylight-saving change after "now" (spring or autumn).
    today = timeutils.today(BERLIN)
    change = next(
        today + timedelta(days=n)
        for n in range(3, 400)
        if timeutils.localtime(
            timeutils.local_at(today + timedelta(days=n), time(12), BERLIN), BERLIN
        ).utcoffset()
        != timeutils.localtime(
            timeutils.local_at(today + timedelta(days=n + 1), time(12), BERLIN), BERLIN
        ).utcoffset()
    )
    first = timeutils.next_weekday(1, BERLIN, after=change - timedelta(days=14))
    made = series.series_book(
        actor=STAFF,
        service=service,
        recurrence=weekly(first, count=4),
        zone=BERLIN,
        staff=anna,
        customer=customer,
    )
    local = [timeutils.localtime(a.start, BERLIN) for a in made.appointments.order_by("start")]
    assert [(moment.hour, moment.minute) for moment in local] == [(8, 0)] * 4
    assert len({moment.utcoffset() for moment in local}) == 2
    assert all(timeutils.elapsed(a.start, a.end) == timedelta(minutes=30) for a in made.appointments.all())


# --- Move and cancel --------------------------------------------------------------------------------------


@pytest.fixture
def booked(physio):
    service, (anna, ben), customer = physio
    made = series.series_book(
        actor=STAFF,
        service=service,
        recurrence=weekly(next_tuesday()),
        zone=BERLIN,
        staff=anna,
        customer=customer,
    )
    return made, list(made.appointments.order_by("start")), (anna, ben)


def test_cancel_this_and_following(booked):
    made, occurrences, _staff = booked
    cancelled = series.series_cancel(actor=STAFF, appointment=occurrences[3], scope="following", reason="Kur")
    assert [a.pk for a in cancelled] == [a.pk for a in occurrences[3:]]
    statuses = list(made.appointments.order_by("start").values_list("status", flat=True))
    assert statuses == ["confirmed"] * 3 + ["cancelled"] * 3
    made.refresh_from_db()
    assert made.revision == 1


def test_cancel_only_this_one(booked):
    made, occurrences, _staff = booked
    series.series_cancel(actor=STAFF, appointment=occurrences[1], scope="this")
    statuses = list(made.appointments.order_by("start").values_list("status", flat=True))
    assert statuses == ["confirmed", "cancelled"] + ["confirmed"] * 4


def test_move_this_and_following_keeps_the_wall_clock_and_the_rest(booked):
    made, occurrences, _staff = booked
    new_start = timeutils.local_at(
        timeutils.local_date(occurrences[2].start, BERLIN) + timedelta(days=1), time(9, 30), BERLIN
    )
    series.series_move(
        actor=STAFF, appointment=occurrences[2], start=new_start, zone=BERLIN, scope="following"
    )
    local = [timeutils.localtime(a.start, BERLIN) for a in made.appointments.order_by("start")]
    assert [(m.weekday(), m.hour, m.minute) for m in local] == [(1, 8, 0)] * 2 + [(2, 9, 30)] * 4


def test_move_following_by_a_week_does_not_collide_with_its_own_series(booked):
    made, occurrences, _staff = booked
    series.series_move(
        actor=STAFF,
        appointment=occurrences[0],
        start=timeutils.local_at(
            timeutils.local_date(occurrences[0].start, BERLIN) + timedelta(weeks=1), time(8), BERLIN
        ),
        zone=BERLIN,
        scope="following",
    )
    starts = list(made.appointments.order_by("start").values_list("start", flat=True))
    assert starts[0] == occurrences[1].start
    assert len(set(starts)) == 6


def test_move_following_with_one_collision_moves_nothing(booked):
    made, occurrences, (anna, _ben) = booked
    day = timeutils.local_date(occurrences[4].start, BERLIN)
    book_one(made.service, anna, timeutils.local_at(day, time(10), BERLIN))
    before = list(made.appointments.order_by("start").values_list("start", flat=True))
    target = timeutils.local_at(timeutils.local_date(occurrences[1].start, BERLIN), time(10), BERLIN)
    with pytest.raises(services.Conflict, match="Nothing was moved"):
        series.series_move(
            actor=STAFF, appointment=occurrences[1], start=target, zone=BERLIN, scope="following"
        )
    assert list(made.appointments.order_by("start").values_list("start", flat=True)) == before


def test_a_single_appointment_has_no_series_to_change(physio):
    service, (anna, _ben), _customer = physio
    single = book_one(service, anna, timeutils.local_at(next_tuesday(), time(8), BERLIN))
    with pytest.raises(services.SchedulingError, match="not part of a series"):
        series.series_cancel(actor=STAFF, appointment=single, scope="following")


def test_a_course_series_joins_the_weekly_sessions_while_seats_are_left(business_a):
    with schema_context(business_a.schema):
        course, (anna,), _room = salon(name="Rückenkurs", capacity=2, staff_count=1, duration_minutes=60)
        rule = weekly(next_tuesday(), count=4, at=time(10))
        people = [Customer.objects.create(first_name="P", last_name=str(n)) for n in range(3)]
        for person in people[:2]:
            series.series_book(
                actor=STAFF, service=course, recurrence=rule, zone=BERLIN, staff=anna, customer=person
            )
        # Two seats per session: both series share the four sessions; the third person finds them full.
        assert Appointment.objects.count() == 8
        assert len(set(Appointment.objects.values_list("allocations__session", flat=True))) == 4
        checks = occurrences_check(
            needs=series_needs(service=course, staff=anna, room=None), starts=rule.starts(BERLIN), zone=BERLIN
        )
        assert not any(c.free for c in checks)
        with pytest.raises(services.Conflict):
            series.series_book(
                actor=STAFF, service=course, recurrence=rule, zone=BERLIN, staff=anna, customer=people[2]
            )
