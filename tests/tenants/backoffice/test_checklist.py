"""The first-run checklist of the start page: ticks from real data, "I work here myself", the website
step, putting it away; only for owners and managers, only of their own business."""

from datetime import time

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.tenants.accounts.models import Role, User
from termino.tenants.backoffice.models import ChecklistDismissal
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling.models import Resource, Service, WeeklyHours
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def ticks(client) -> dict[str, bool]:
    checklist = client.get("/").context["checklist"]
    return {step: getattr(checklist, step) for step in (*checklist.REQUIRED, "website")}


def test_a_new_business_starts_with_nothing_ticked_and_every_step_links_on(business_a):
    client = log_in_as(business_a)
    page = client.get("/")
    html = page.content.decode()
    assert ticks(client) == dict.fromkeys(["hours", "service", "people", "booking_page", "website"], False)
    assert "0 of 4 steps done" in html
    for link in ('href="/settings/hours/"', 'href="/settings/services/new/"', 'href="/people/new/"'):
        assert link in html
    assert f"http://{business_a.host}:8000/book/" in html and "<svg" in html  # link and QR code
    assert 'name="myself" id="id_myself" checked' in html  # "I work here myself", preselected


def test_steps_are_ticked_from_the_data_and_i_work_here_myself_makes_my_column(business_a):
    client = log_in_as(business_a)
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=0, start=time(9), end=time(17))
        cut = Service.objects.create(name="Schnitt", duration_minutes=30)
    assert ticks(client) | {} == {
        "hours": True,
        "service": True,
        "people": False,
        "booking_page": False,
        "website": False,
    }
    html = client.get("/").content.decode()
    assert "Nobody does yet:" in html and "Schnitt" in html

    response = client.post("/start/myself/", {"myself": "on"})
    assert response.status_code == 302 and response["Location"] == "/#step-people"
    with schema_context(business_a.schema):
        owner = User.objects.get(role=Role.OWNER)
        column = Resource.objects.get(user=owner)
        assert (column.kind, column.name, column.active) == ("staff", "Erika Mustermann", True)
        assert list(column.services.all()) == [cut]
    # Once more changes nothing: one column per person.
    client.post("/start/myself/", {"myself": "on"})
    with schema_context(business_a.schema):
        assert Resource.objects.filter(user=owner).count() == 1
    assert ticks(client)["people"] and ticks(client)["booking_page"]  # A's address is confirmed


def test_not_working_here_leads_to_adding_someone_else(business_a):
    response = log_in_as(business_a).post("/start/myself/", {})
    assert response["Location"] == "/people/new/"
    with schema_context(business_a.schema):
        assert not Resource.objects.exists()


def test_the_booking_page_step_waits_for_the_confirmed_address(business_a):
    Tenant.objects.filter(pk=business_a.tenant.pk).update(email_confirmed_at=None)
    client = log_in_as(business_a)
    with schema_context(business_a.schema):
        WeeklyHours.objects.create(weekday=0, start=time(9), end=time(17))
        Service.objects.create(name="Schnitt", duration_minutes=30)
    client.post("/start/myself/", {"myself": "on"})
    html = client.get("/").content.decode()
    assert not ticks(client)["booking_page"] and "confirmed your e-mail address" in html


def test_the_website_step_adds_the_origin_once(business_a):
    client = log_in_as(business_a)
    assert client.post("/start/website/", {"website": "www.salon-alpha.example/"}).status_code == 302
    client.post("/start/website/", {"website": "https://www.salon-alpha.example"})
    with schema_context(business_a.schema):
        assert BusinessSettings.current().origins == ["https://www.salon-alpha.example"]
    assert ticks(client)["website"]
    bad = client.post("/start/website/", {"website": "https://x.example/path?q=1"}, follow=True)
    assert "is not a website address" in bad.content.decode()
    with schema_context(business_a.schema):
        assert BusinessSettings.current().origins == ["https://www.salon-alpha.example"]


def test_it_can_be_put_away_only_when_done(business_a):
    client = log_in_as(business_a)
    assert client.post("/start/dismiss/").status_code == 302
    with schema_context(business_a.schema):
        assert not ChecklistDismissal.objects.exists()
        WeeklyHours.objects.create(weekday=0, start=time(9), end=time(17))
        Service.objects.create(name="Schnitt", duration_minutes=30)
    client.post("/start/myself/", {"myself": "on"})
    assert "Done, hide this list" in client.get("/").content.decode()
    client.post("/start/dismiss/")
    assert client.get("/").context["checklist"] is None
    with schema_context(business_a.schema):
        assert ChecklistDismissal.objects.get().dismissed_at <= timezone.now()


def test_staff_members_see_no_checklist_and_cannot_use_its_forms(business_a):
    client = log_in_as(business_a, "staff")
    assert client.get("/").context["checklist"] is None
    for path in ("/start/myself/", "/start/website/", "/start/dismiss/"):
        assert client.post(path, {"myself": "on", "website": "https://evil.example"}).status_code == 403
    with schema_context(business_a.schema):
        assert not Resource.objects.exists() and not BusinessSettings.current().origins


def test_business_b_neither_sees_nor_changes_the_checklist_of_a(business_a, business_b):
    with schema_context(business_a.schema):
        Service.objects.create(name="Nur-bei-A", duration_minutes=30)
    owner_b = log_in_as(business_b)
    assert "Nur-bei-A" not in owner_b.get("/").content.decode()
    owner_b.post("/start/myself/", {"myself": "on"})
    owner_b.post("/start/website/", {"website": "https://b.example"})
    with schema_context(business_a.schema):
        assert not Resource.objects.exists() and not BusinessSettings.current().origins
    with schema_context(business_b.schema):
        assert Resource.objects.count() == 1 and BusinessSettings.current().origins == ["https://b.example"]
    # A's session is unknown at B's host and the other way round.
    stolen = log_in_as(business_a)
    stolen.defaults["HTTP_HOST"] = business_b.host
    assert stolen.post("/start/dismiss/")["Location"].startswith("/login/")


def test_a_service_nobody_does_says_so_with_a_link_to_choose(business_a):
    client = log_in_as(business_a)
    response = client.post(
        "/settings/services/new/",
        {
            "name": "Färben",
            "duration_minutes": 60,
            "price": "40",
            "min_notice_minutes": 60,
            "horizon_days": 60,
            "slot_step_minutes": 15,
            "capacity": 1,
            "colour": "#3b82f6",
            "bookable_online": "on",
            "active": "on",
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Nobody does “Färben” yet" in html and "Choose who does it" in html
    with schema_context(business_a.schema):
        service = Service.objects.get(name="Färben")
    assert f'href="/settings/services/{service.pk}/#resources-help"' in html
