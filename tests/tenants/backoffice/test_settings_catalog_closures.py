"""Settings → Closures and holidays: list, add, delete, import public holidays."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Closure, Resource
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def local(day: date, at: time = time.min) -> datetime:
    return datetime.combine(day, at, tzinfo=BERLIN)


def closures(business):
    with schema_context(business.schema):
        return list(Closure.objects.order_by("start").values_list("resource_id", "start", "end", "reason"))


def test_list_shows_upcoming_and_past_closures(business_a):
    today = timezone.localdate()
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        Closure.objects.create(
            start=local(today + timedelta(10)), end=local(today + timedelta(12)), reason="Umzug"
        )
        past = today - timedelta(30)
        Closure.objects.create(
            resource=anna, start=local(past, time(9)), end=local(past, time(13)), reason="Fortbildung"
        )
    page = log_in_as(business_a, "manager").get("/settings/closures/")
    assert page.status_code == 200 and page.context["section"] == "settings"
    assert [c.reason for c in page.context["upcoming"]] == ["Umzug"]
    assert [c.reason for c in page.context["past"]] == ["Fortbildung"]
    html = page.content.decode()
    assert "Whole business" in html and "Anna" in html and "09:00–13:00" in html
    # Whole days read as dates only: the 10th to the 11th day from today (the end is exclusive).
    assert page.context["upcoming"][0].period.count(" – ") == 1


def test_add_single_day_for_the_business(business_a):
    response = log_in_as(business_a).post(
        "/settings/closures/", {"start_date": "2030-12-24", "reason": "Heiligabend"}
    )
    assert response.status_code == 302 and response["Location"] == "/settings/closures/"
    assert closures(business_a) == [
        (None, local(date(2030, 12, 24)), local(date(2030, 12, 25)), "Heiligabend")
    ]


def test_add_range_with_times_for_one_staff_member(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
    data = {"resource": anna.pk, "start_date": "2030-03-28", "end_date": "2030-03-31",
            "start_time": "14:00", "end_time": "10:00", "reason": "Urlaub"}  # fmt: skip
    assert log_in_as(business_a).post("/settings/closures/", data).status_code == 302
    assert closures(business_a) == [
        (anna.pk, local(date(2030, 3, 28), time(14)), local(date(2030, 3, 31), time(10)), "Urlaub")
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"start_date": ""},
        {"start_date": "kein Datum"},
        {"start_date": "2030-05-10", "end_date": "2030-05-09"},
        {"start_date": "2030-05-10", "start_time": "12:00", "end_time": "11:00"},
        {"start_date": "2030-05-10", "resource": "999999"},
        {"start_date": "2030-05-10", "reason": "x" * 201},
    ],
)
def test_invalid_closure_is_refused_and_nothing_stored(business_a, bad):
    response = log_in_as(business_a).post("/settings/closures/", bad)
    assert response.status_code == 400
    assert "Please correct the marked fields." in response.content.decode()
    assert closures(business_a) == []


def test_delete_a_closure(business_a):
    with schema_context(business_a.schema):
        closure = Closure.objects.create(start=local(date(2030, 1, 2)), end=local(date(2030, 1, 3)))
    response = log_in_as(business_a).post(f"/settings/closures/{closure.pk}/delete/")
    assert response.status_code == 302
    assert closures(business_a) == []


def test_import_public_holidays_reports_new_and_existing(business_a):
    client = log_in_as(business_a)
    year = timezone.localdate().year
    first = client.post("/settings/closures/holidays/", {"state": "BE", "years": [year]}, follow=True)
    assert first.status_code == 200
    with schema_context(business_a.schema):
        count = Closure.objects.filter(holiday_date__year=year).count()
        assert count >= 9 and Closure.objects.get(holiday_date=date(year, 12, 25)).resource is None
    assert f"Public holidays of Berlin: {count} added, 0 already there." in first.content.decode()
    again = client.post(
        "/settings/closures/holidays/", {"state": "BE", "years": [year, year + 1]}, follow=True
    )
    assert f"added, {count} already there." in again.content.decode()


@pytest.mark.parametrize(
    "bad",
    [
        {"state": "", "years": ["2030"]},
        {"state": "Augsburg"},
        {"state": "BY", "years": ["1999"]},
        {"state": "BY"},
    ],
)
def test_invalid_import_is_refused_and_nothing_stored(business_a, bad):
    response = log_in_as(business_a).post("/settings/closures/holidays/", bad)
    assert response.status_code == 400
    assert closures(business_a) == []


def test_staff_members_may_not_open_or_write(business_a):
    with schema_context(business_a.schema):
        closure = Closure.objects.create(start=local(date(2030, 1, 2)), end=local(date(2030, 1, 3)))
    staff = log_in_as(business_a, "staff")
    assert staff.get("/settings/closures/").status_code == 403
    assert staff.post("/settings/closures/", {"start_date": "2030-05-01"}).status_code == 403
    assert staff.post(f"/settings/closures/{closure.pk}/delete/").status_code == 403
    assert staff.post("/settings/closures/holidays/", {"state": "BY", "years": ["2030"]}).status_code == 403
    assert len(closures(business_a)) == 1


def test_session_of_another_business_is_refused(business_a, business_b):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post("/settings/closures/", {"start_date": "2030-05-01"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert closures(business_a) == []


def test_ids_of_another_business_are_not_found(business_a, business_b):
    with schema_context(business_a.schema):
        closure = Closure.objects.create(
            start=local(date(2030, 1, 2)), end=local(date(2030, 1, 3)), reason="A"
        )
        anna = Resource.objects.create(kind="staff", name="Anna")
    client_b = log_in_as(business_b)
    assert client_b.post(f"/settings/closures/{closure.pk}/delete/").status_code == 404
    # A resource id of A is no choice at B.
    refused = client_b.post("/settings/closures/", {"start_date": "2030-05-01", "resource": anna.pk})
    assert refused.status_code == 400
    assert len(closures(business_a)) == 1 and closures(business_b) == []
    assert "Anna" not in client_b.get("/settings/closures/").content.decode()
