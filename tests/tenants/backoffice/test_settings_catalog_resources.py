"""Settings → Rooms (staff members are on People): list, create, edit, and each one's working hours."""

from datetime import time

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Resource, Service, WeeklyHours
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user

pytestmark = pytest.mark.django_db


def hours_of(business, resource):
    with schema_context(business.schema):
        return list(WeeklyHours.objects.filter(resource=resource).values_list("weekday", "start", "end"))


def test_list_shows_rooms_with_their_hours_and_points_to_people(business_a):
    make_user(business_a, "staff", staff_name="Clara")
    with schema_context(business_a.schema):
        room = Resource.objects.create(kind="room", name="Kabine")
        Resource.objects.create(kind="room", name="Liege")
        WeeklyHours.objects.create(resource=room, weekday=0, start=time(8), end=time(12))
    page = log_in_as(business_a, "manager").get("/settings/rooms/")
    html = page.content.decode()
    assert page.status_code == 200 and page.context["section"] == "settings"
    assert "Clara" not in html and "Kabine" in html and 'href="/people/"' in html
    assert "Same as the opening hours" in html and "Own working hours" in html


def test_create_and_edit_a_room(business_a):
    with schema_context(business_a.schema):
        massage = Service.objects.create(name="Massage", duration_minutes=60)
    client = log_in_as(business_a)
    assert client.get("/settings/resources/new/?kind=room").context["form"]["kind"].value() == "room"
    response = client.post(
        "/settings/resources/new/",
        {"kind": "room", "name": "Kabine", "services": [massage.pk], "active": "on"},
    )
    assert response.status_code == 302 and response["Location"] == "/settings/rooms/"
    with schema_context(business_a.schema):
        room = Resource.objects.get(name="Kabine")
        assert room.kind == "room" and room.active and list(room.services.all()) == [massage]
    response = client.post(f"/settings/resources/{room.pk}/", {"kind": "room", "name": "Kabine 2"})
    assert response.status_code == 302
    with schema_context(business_a.schema):
        room.refresh_from_db()
        assert room.name == "Kabine 2" and not room.active and room.services.count() == 0


@pytest.mark.parametrize("bad", [{"name": ""}, {"kind": "robot"}, {"services": ["999999"]}])
def test_invalid_resource_is_refused_and_nothing_stored(business_a, bad):
    data = {"kind": "staff", "name": "Dora", "active": "on", **bad}
    response = log_in_as(business_a).post("/settings/resources/new/", data)
    assert response.status_code == 400
    with schema_context(business_a.schema):
        assert not Resource.objects.exists()


def test_staff_member_with_a_login_cannot_become_a_room(business_a):
    user = make_user(business_a, "staff", staff_name="Clara")
    with schema_context(business_a.schema):
        clara = Resource.objects.get(user=user)
    response = log_in_as(business_a).post(
        f"/settings/resources/{clara.pk}/", {"kind": "room", "name": "Clara", "active": "on"}
    )
    assert response.status_code == 400 and "cannot become a room" in response.content.decode()
    with schema_context(business_a.schema):
        assert Resource.objects.get(pk=clara.pk).kind == "staff"


def test_own_working_hours_with_a_break(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        WeeklyHours.objects.create(weekday=0, start=time(8), end=time(20))
    client = log_in_as(business_a)
    page = client.get(f"/settings/resources/{anna.pk}/hours/")
    assert page.status_code == 200 and page.context["form"]["mode"].value() == "business"
    response = client.post(
        f"/settings/resources/{anna.pk}/hours/",
        {"mode": "own", "d0-0-start": "09:00", "d0-0-end": "12:30",
         "d0-7-start": "13:30", "d0-7-end": "18:00", "d1-0-start": "", "d1-0-end": ""},
    )  # fmt: skip
    assert response.status_code == 302
    assert hours_of(business_a, anna) == [(0, time(9), time(12, 30)), (0, time(13, 30), time(18))]
    page = client.get(f"/settings/resources/{anna.pk}/hours/")
    assert page.context["form"]["mode"].value() == "own"
    assert page.context["bookable"][0]["text"] == "09:00–12:30, 13:30–18:00"
    assert 'value="13:30"' in page.content.decode()


def test_bad_working_hours_are_refused_and_the_old_ones_kept(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        WeeklyHours.objects.create(resource=anna, weekday=2, start=time(9), end=time(17))
    client = log_in_as(business_a)
    path = f"/settings/resources/{anna.pk}/hours/"
    overlap = client.post(
        path,
        {
            "mode": "own",
            "d0-0-start": "09:00",
            "d0-0-end": "13:00",
            "d0-1-start": "12:00",
            "d0-1-end": "18:00",
        },
    )
    assert overlap.status_code == 400 and "09:00–13:00 and 12:00–18:00 overlap." in overlap.content.decode()
    nothing = client.post(path, {"mode": "own", "d0-0-start": "", "d0-0-end": ""})
    assert nothing.status_code == 400 and "Enter at least one working time" in nothing.content.decode()
    assert client.post(path, {"d0-0-start": "09:00", "d0-0-end": "10:00"}).status_code == 400  # no mode
    assert hours_of(business_a, anna) == [(2, time(9), time(17))]


def test_same_as_opening_hours_drops_own_hours_and_ignores_the_rows(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
        WeeklyHours.objects.create(resource=anna, weekday=2, start=time(9), end=time(17))
    response = log_in_as(business_a).post(
        f"/settings/resources/{anna.pk}/hours/",
        {"mode": "business", "d0-0-start": "18:00", "d0-0-end": "nonsense"},
    )
    assert response.status_code == 302
    assert hours_of(business_a, anna) == []


def test_staff_members_may_not_open_or_write(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
    staff = log_in_as(business_a, "staff")
    for path in ("/settings/resources/", "/settings/resources/new/", f"/settings/resources/{anna.pk}/",
                 f"/settings/resources/{anna.pk}/hours/"):  # fmt: skip
        assert staff.get(path).status_code == 403
    assert staff.post(f"/settings/resources/{anna.pk}/", {"kind": "staff", "name": "X"}).status_code == 403
    hours = {"mode": "own", "d0-0-start": "09:00", "d0-0-end": "10:00"}
    assert staff.post(f"/settings/resources/{anna.pk}/hours/", hours).status_code == 403
    with schema_context(business_a.schema):
        assert Resource.objects.get(pk=anna.pk).name == "Anna"
    assert hours_of(business_a, anna) == []


def test_session_of_another_business_is_refused(business_a, business_b):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post("/settings/resources/new/", {"kind": "staff", "name": "Eve", "active": "on"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    with schema_context(business_a.schema):
        assert not Resource.objects.exists()


def test_ids_of_another_business_are_not_found(business_a, business_b):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
    client_b = log_in_as(business_b)
    assert client_b.get(f"/settings/resources/{anna.pk}/").status_code == 404
    assert client_b.get(f"/settings/resources/{anna.pk}/hours/").status_code == 404
    assert client_b.post(f"/settings/resources/{anna.pk}/", {"kind": "staff", "name": "X"}).status_code == 404
    hours = {"mode": "own", "d0-0-start": "09:00", "d0-0-end": "10:00"}
    assert client_b.post(f"/settings/resources/{anna.pk}/hours/", hours).status_code == 404
    with schema_context(business_a.schema):
        assert Resource.objects.get(pk=anna.pk).name == "Anna"
    with schema_context(business_b.schema):
        assert not WeeklyHours.objects.exists()
