"""Settings → Opening hours: the weekly editor of the business, saved as one set."""

from datetime import time

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling.availability import END_OF_DAY
from termino.tenants.scheduling.models import Resource, WeeklyHours
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def opening_hours(business):
    with schema_context(business.schema):
        return list(WeeklyHours.objects.filter(resource=None).values_list("weekday", "start", "end"))


def test_page_shows_saved_hours_plus_empty_rows_for_use_without_script(business_a):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=0, start=time(9), end=time(12, 30))
    page = log_in_as(business_a, "manager").get("/settings/hours/")
    html = page.content.decode()
    assert page.status_code == 200 and page.context["section"] == "settings"
    assert 'name="d0-0-start" value="09:00"' in html and 'name="d0-0-end" value="12:30"' in html
    # Two empty rows a day beyond the saved ones: enough for a day with a break.
    assert 'name="d0-2-start"' in html and 'name="d6-1-end"' in html and 'name="d6-2-end"' not in html
    assert "hours.js" in html


def test_save_week_with_breaks_and_closed_days(business_a):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=5, start=time(10), end=time(14))
    data = {
        "d0-0-start": "09:00", "d0-0-end": "12:30", "d0-1-start": "13:30", "d0-1-end": "18:00",
        # Row numbers with gaps, as the script leaves them after adding and removing rows.
        "d2-4-start": "14:00", "d2-4-end": "20:00", "d2-9-start": "08:00", "d2-9-end": "12:00",
        "d3-0-start": "", "d3-0-end": "",
    }  # fmt: skip
    response = log_in_as(business_a).post("/settings/hours/", data)
    assert response.status_code == 302 and response["Location"] == "/settings/hours/"
    assert opening_hours(business_a) == [
        (0, time(9), time(12, 30)),
        (0, time(13, 30), time(18)),
        (2, time(8), time(12)),
        (2, time(14), time(20)),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"d0-0-start": "09:00", "d0-0-end": "13:00", "d0-1-start": "12:00", "d0-1-end": "18:00"}, "overlap"),
        (
            {"d1-0-start": "18:00", "d1-0-end": "09:00"},
            "An interval cannot run past midnight. "
            "Enter 18:00–24:00 on Tuesday and 00:00–09:00 on Wednesday.",
        ),
        ({"d1-0-start": "09:00", "d1-0-end": "09:00"}, "The end must be after the start."),
        ({"d1-0-start": "09:00", "d1-0-end": ""}, "Enter the end as well."),
        ({"d1-0-start": "", "d1-0-end": "17:00"}, "Enter the start as well."),
        ({"d1-0-start": "25:00", "d1-0-end": "26:00"}, "Enter a valid time."),
    ],
)
def test_bad_hours_are_refused_and_nothing_changes(business_a, data, message):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=4, start=time(9), end=time(17))
    response = log_in_as(business_a).post(
        "/settings/hours/", {"d4-0-start": "08:00", "d4-0-end": "12:00", **data}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "Please correct the marked times." in html
    assert 'value="08:00"' in html  # what was typed comes back
    assert opening_hours(business_a) == [(4, time(9), time(17))]


def test_clearing_every_day_closes_the_business_and_the_page_says_so(business_a):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=4, start=time(9), end=time(17))
        anna = Resource.objects.create(kind="staff", name="Anna")
        WeeklyHours.objects.create(resource=anna, weekday=4, start=time(9), end=time(12))
    client = log_in_as(business_a)
    assert client.post("/settings/hours/", {"d4-0-start": "", "d4-0-end": ""}).status_code == 302
    assert opening_hours(business_a) == []
    assert "customers cannot book anything online" in client.get("/settings/hours/").content.decode()
    with schema_context(business_a.schema):
        assert WeeklyHours.objects.filter(resource=anna).count() == 1  # staff hours are their own


def test_staff_members_may_not_open_or_write(business_a):
    staff = log_in_as(business_a, "staff")
    assert staff.get("/settings/hours/").status_code == 403
    assert staff.post("/settings/hours/", {"d0-0-start": "09:00", "d0-0-end": "10:00"}).status_code == 403
    assert opening_hours(business_a) == []


def test_session_of_another_business_is_refused(business_a, business_b):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post("/settings/hours/", {"d0-0-start": "09:00", "d0-0-end": "10:00"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert opening_hours(business_a) == []


def test_hours_of_one_business_do_not_show_at_another(business_a, business_b):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=0, start=time(7, 15), end=time(11, 45))
    html = log_in_as(business_b).get("/settings/hours/").content.decode()
    assert "07:15" not in html and "11:45" not in html


# --- midnight: 24:00 as an end, nights as two rows -----------------------------------------------------


@pytest.mark.parametrize("typed", ["00:00", "24:00", "24.00", "24"])
def test_an_end_of_0000_or_a_typed_2400_is_midnight(business_a, typed):
    """Time inputs cannot show 24:00: 00:00 as an end means it, and a text box may get "24:00" typed."""
    data = {"d4-0-start": "20:00", "d4-0-end": typed, "d5-0-start": "00:00", "d5-0-end": "02:00"}
    response = log_in_as(business_a).post("/settings/hours/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert opening_hours(business_a) == [(4, time(20), END_OF_DAY), (5, time(0), time(2))]


def test_a_saved_midnight_shows_as_0000_with_the_24_00_note(business_a):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=4, start=time(18), end=END_OF_DAY)
        WeeklyHours.objects.create(weekday=5, start=time(0), end=time(3))
    page = log_in_as(business_a).get("/settings/hours/")
    html = page.content.decode()
    assert 'name="d4-0-end" value="00:00"' in html
    rows = {day["weekday"]: day["rows"] for day in page.context["form"].days()}
    assert [midnight for _start, _end, midnight in rows[4]] == [True, False, False]  # saved row, 2 spares
    assert [midnight for _start, _end, midnight in rows[5]] == [False] * 3  # 00:00 as a start is no midnight
    # Every row has the note; without the script only the saved midnight shows it.
    assert html.count("data-midnight>Until 24:00 (midnight)</span>") == 1
    assert "Open until midnight? Enter 00:00 as the end: it counts as 24:00." in html
    assert 'aria-describedby="hours-midnight-help"' in html


@pytest.mark.parametrize(
    ("language", "message", "hint"),
    [
        (
            "en",
            "An interval cannot run past midnight. Enter 22:00–24:00 on Friday and 00:00–06:00 on Saturday.",
            "Open until midnight?",
        ),
        (
            "de",
            "Ein Zeitraum kann nicht über Mitternacht hinausgehen. Tragen Sie 22:00–24:00 am Freitag und "
            "00:00–06:00 am Samstag ein.",
            "Bis Mitternacht geöffnet?",
        ),
    ],
)
def test_a_night_shift_in_one_row_is_refused_with_how_to_enter_it(business_a, language, message, hint):
    client = log_in_as(business_a, language=language)
    response = client.post("/settings/hours/", {"d4-0-start": "22:00", "d4-0-end": "06:00"})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and hint in html
    assert opening_hours(business_a) == []
    # Entered the way the message says, the night is stored.
    night = {"d4-0-start": "22:00", "d4-0-end": "00:00", "d5-0-start": "00:00", "d5-0-end": "06:00"}
    assert client.post("/settings/hours/", night).status_code == 302
    assert opening_hours(business_a) == [(4, time(22), END_OF_DAY), (5, time(0), time(6))]


def test_overlap_with_an_interval_until_midnight_is_found(business_a):
    data = {"d4-0-start": "20:00", "d4-0-end": "00:00", "d4-1-start": "23:00", "d4-1-end": "23:30"}
    response = log_in_as(business_a).post("/settings/hours/", data)
    assert response.status_code == 400 and "20:00–24:00 and 23:00–23:30 overlap." in response.content.decode()


def test_24_00_is_no_start(business_a):
    response = log_in_as(business_a).post("/settings/hours/", {"d4-0-start": "24:00", "d4-0-end": "24:00"})
    assert response.status_code == 400 and "Enter a valid time." in response.content.decode()


def test_resource_page_summaries_read_24_00(business_a):
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=4, start=time(8), end=END_OF_DAY)
        anna = Resource.objects.create(kind="staff", name="Anna")
    client = log_in_as(business_a)
    response = client.post(
        f"/settings/resources/{anna.pk}/hours/", {"mode": "own", "d4-0-start": "19:30", "d4-0-end": "24:00"}
    )
    assert response.status_code == 302
    page = client.get(f"/settings/resources/{anna.pk}/hours/")
    assert page.context["opening_hours"][4]["text"] == "08:00–24:00"
    assert page.context["bookable"][4]["text"] == "19:30–24:00"
    assert "19:30–24:00" in page.content.decode()
