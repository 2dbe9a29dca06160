"""Settings → Services: list, create, edit, delete unused ones, deactivate used ones."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Resource, Service
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "name": "Damenschnitt",
        "description": "Waschen, schneiden, föhnen",
        "duration_minutes": "45",
        "price": "42.50",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "10",
        "min_notice_minutes": "120",
        "horizon_days": "60",
        "slot_step_minutes": "15",
        "capacity": "1",
        "colour": "#ff8800",
        "bookable_online": "on",
        "active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_list_shows_services_and_why_one_cannot_be_booked(business_a):
    with schema_context(business_a.schema):
        salon(name="Herrenschnitt")
        Service.objects.create(name="Verwaist", duration_minutes=30)
    page = log_in_as(business_a, "manager").get("/settings/services/")
    html = page.content.decode()
    assert page.status_code == 200 and page.context["section"] == "settings"
    assert "Herrenschnitt" in html and "Staff 1" in html
    assert "Verwaist" in html and "Nobody does it yet" in html


def test_create_stores_the_service_with_its_staff(business_a):
    with schema_context(business_a.schema):
        anna = Resource.objects.create(kind="staff", name="Anna")
    client = log_in_as(business_a)
    assert "Anna" in client.get("/settings/services/new/").content.decode()
    response = client.post("/settings/services/new/", form_data(resources=[anna.pk]))
    assert response.status_code == 302 and response["Location"] == "/settings/services/"
    with schema_context(business_a.schema):
        service = Service.objects.get(name="Damenschnitt")
        assert (service.duration_minutes, str(service.price), service.colour) == (45, "42.50", "#ff8800")
        assert service.bookable_online and not service.requires_room
        assert list(service.resources.all()) == [anna]


@pytest.mark.parametrize(
    "bad",
    [
        {"name": ""},
        {"duration_minutes": "0"},
        {"duration_minutes": "abc"},
        {"price": "-1"},
        {"colour": "red"},
        {"capacity": "0"},
        {"slot_step_minutes": "0"},
        {"horizon_days": "0"},
        {"resources": ["999999"]},
        {"online_series_count": "1"},
        {"online_series_count": "53"},
        {"online_series_count": "6", "online_series_interval_weeks": "5"},
        {"online_series_count": "6", "online_series_interval_weeks": "0"},
    ],
)
def test_invalid_service_is_refused_and_nothing_stored(business_a, bad):
    response = log_in_as(business_a).post("/settings/services/new/", form_data(**bad))
    assert response.status_code == 400
    assert "Please correct the marked fields." in response.content.decode()
    with schema_context(business_a.schema):
        assert not Service.objects.exists()


def test_edit_changes_the_service_and_invalid_edit_changes_nothing(business_a):
    with schema_context(business_a.schema):
        service, staff, room = salon(name="Schnitt")
    client = log_in_as(business_a)
    page = client.get(f"/settings/services/{service.pk}/")
    assert page.status_code == 200 and 'value="Schnitt"' in page.content.decode()
    bad = client.post(f"/settings/services/{service.pk}/", form_data(name="Anders", duration_minutes="-5"))
    assert bad.status_code == 400
    assert "<h1>Schnitt</h1>" in bad.content.decode()  # the title keeps the stored name
    response = client.post(
        f"/settings/services/{service.pk}/",
        form_data(name="Langhaarschnitt", requires_room="on", resources=[staff[0].pk, room.pk]),
    )
    assert response.status_code == 302
    with schema_context(business_a.schema):
        service.refresh_from_db()
        assert service.name == "Langhaarschnitt" and service.requires_room
        assert set(service.resources.all()) == {staff[0], room}


def test_unused_service_is_deleted_after_confirmation(business_a):
    with schema_context(business_a.schema):
        service = Service.objects.create(name="Probe", duration_minutes=30)
    client = log_in_as(business_a)
    assert "Delete service" in client.get(f"/settings/services/{service.pk}/").content.decode()
    confirm = client.get(f"/settings/services/{service.pk}/delete/")
    assert confirm.status_code == 200 and "for good" in confirm.content.decode()
    assert client.post(f"/settings/services/{service.pk}/delete/").status_code == 302
    with schema_context(business_a.schema):
        assert not Service.objects.filter(pk=service.pk).exists()


def test_used_service_cannot_be_deleted_only_deactivated(business_a):
    with schema_context(business_a.schema):
        service, (anna, _), _ = salon()
        services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(), staff=anna)
        )
    client = log_in_as(business_a)
    page = client.get(f"/settings/services/{service.pk}/").content.decode()
    assert "Deactivate service" in page and "Delete service" not in page
    refused = client.post(f"/settings/services/{service.pk}/delete/")
    assert refused.status_code == 400 and "cannot be deleted" in refused.content.decode()
    response = client.post(f"/settings/services/{service.pk}/deactivate/")
    assert response.status_code == 302
    with schema_context(business_a.schema):
        service.refresh_from_db()
        assert service.active is False and service.appointments.count() == 1


PAGES = ["/settings/services/", "/settings/services/new/"]


@pytest.mark.parametrize("path", PAGES)
def test_staff_members_may_not_open_the_pages(business_a, path):
    assert log_in_as(business_a, "staff").get(path).status_code == 403


def test_staff_members_may_not_write(business_a):
    with schema_context(business_a.schema):
        service = Service.objects.create(name="Probe", duration_minutes=30)
    staff = log_in_as(business_a, "staff")
    assert staff.post("/settings/services/new/", form_data()).status_code == 403
    assert staff.post(f"/settings/services/{service.pk}/delete/").status_code == 403
    assert staff.post(f"/settings/services/{service.pk}/deactivate/").status_code == 403
    with schema_context(business_a.schema):
        assert Service.objects.filter(active=True).count() == 1


def test_logged_out_visitors_go_to_the_login(business_a):
    response = client_for(business_a.host).get("/settings/services/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_session_of_another_business_is_refused(business_a, business_b):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post("/settings/services/new/", form_data())
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    with schema_context(business_a.schema):
        assert not Service.objects.exists()


def test_ids_of_another_business_are_not_found(business_a, business_b):
    with schema_context(business_a.schema):
        service = Service.objects.create(name="Nur bei A", duration_minutes=30)
    client_b = log_in_as(business_b)
    for path in ("", "delete/"):
        assert client_b.get(f"/settings/services/{service.pk}/{path}").status_code == 404
    assert client_b.post(f"/settings/services/{service.pk}/", form_data()).status_code == 404
    assert client_b.post(f"/settings/services/{service.pk}/delete/").status_code == 404
    assert client_b.post(f"/settings/services/{service.pk}/deactivate/").status_code == 404
    with schema_context(business_a.schema):
        assert Service.objects.filter(pk=service.pk, name="Nur bei A", active=True).exists()


def test_a_course_is_set_up_as_a_series_booked_online(business_a):
    """Settings → Services: "booked online as a series of 6 appointments, every 2 weeks"; empty fields mean
    single appointments (the form without them, as older pages post it, still saves)."""
    client = log_in_as(business_a)
    page = client.get("/settings/services/new/").content.decode()
    assert "Course: booked online as a series" in page and 'name="online_series_count"' in page
    response = client.post(
        "/settings/services/new/",
        form_data(name="Rückenkurs", online_series_count="6", online_series_interval_weeks="2"),
    )
    assert response.status_code == 302
    assert client.post("/settings/services/new/", form_data(name="Schnitt")).status_code == 302
    with schema_context(business_a.schema):
        course = Service.objects.get(name="Rückenkurs")
        assert (course.online_series_count, course.online_series_interval_weeks) == (6, 2)
        single = Service.objects.get(name="Schnitt")
        assert (single.online_series_count, single.online_series_interval_weeks) == (0, 1)
    refused = client.post(
        f"/settings/services/{course.pk}/", form_data(name="Rückenkurs", online_series_count="1")
    )
    assert refused.status_code == 400 and "at least 2 appointments" in refused.content.decode()
