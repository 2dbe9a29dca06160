"""Visits through the staff API: availability, booking, reading and cancelling as a whole; processing time on
services with readable refusals; a staff member's own column; another business kept out."""

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Allocation, Appointment, AppointmentStatus, Service
from tests.tenants.backoffice.helpers import log_in_as, make_user

from .factories import next_monday, salon

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        cut, staff, _room = salon()
        colour = Service.objects.create(
            name="Farbe",
            duration_minutes=60,
            processing_after_minutes=15,
            processing_minutes=30,
            min_notice_minutes=0,
        )
        colour.resources.set(staff)
    return business_a, cut, colour, staff


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_the_owner_books_reads_and_cancels_a_visit(shop):
    business, cut, colour, (anna, ben) = shop
    owner = log_in_as(business, "owner")
    start = next_monday()
    day = start.date().isoformat()
    offered = owner.get(
        f"/api/v1/visits/availability/?services={cut.pk},{colour.pk}&staff=any,{ben.pk}&start={day}&end={day}"
    )
    assert offered.status_code == 200
    slot = next(s for s in offered.json()["slots"] if s["start"] == start.isoformat())
    assert slot["parts"][0]["resources"] == [anna.pk, ben.pk] and slot["parts"][1]["resources"] == [ben.pk]
    assert slot["parts"][1]["start"] == (start + timedelta(minutes=30)).isoformat()

    booked = post(
        owner,
        "/api/v1/visits/",
        {
            "services": [{"service": cut.pk, "staff": anna.pk}, {"service": colour.pk, "staff": ben.pk}],
            "start": slot["start"],
        },
    )
    assert booked.status_code == 201, booked.json()
    visit = booked.json()
    assert [a["resources"] for a in visit["appointments"]] == [[anna.pk], [ben.pk]]
    assert visit["end"] == (start + timedelta(minutes=90)).isoformat()
    # Ben's gap (10:45-11:15) is free for someone else; his apply time is not.
    gap = post(
        owner,
        "/api/v1/appointments/",
        {"service": cut.pk, "start": (start + timedelta(minutes=45)).isoformat(), "staff": ben.pk},
    )
    assert gap.status_code == 201, gap.json()
    taken = post(
        owner,
        "/api/v1/appointments/",
        {"service": cut.pk, "start": (start + timedelta(minutes=30)).isoformat(), "staff": ben.pk},
    )
    assert (
        taken.status_code == 409 and taken.json()["conflicting_appointment"] == visit["appointments"][1]["id"]
    )

    assert owner.get(f"/api/v1/visits/{visit['id']}/").json()["appointments"] == visit["appointments"]
    cancelled = post(owner, f"/api/v1/visits/{visit['id']}/cancel/", {"reason": "Krank", "notify": False})
    assert cancelled.status_code == 200
    assert {a["status"] for a in cancelled.json()["appointments"]} == {AppointmentStatus.CANCELLED}
    # Each appointment has its own history: booked, then cancelled.
    history = owner.get(f"/api/v1/appointments/{visit['appointments'][1]['id']}/history/").json()
    assert [h["kind"] for h in history] == ["created", "cancelled"]


def test_a_visit_must_follow_the_layout_and_fit(shop):
    business, cut, colour, (anna, _ben) = shop
    owner = log_in_as(business, "owner")
    start = next_monday()
    post(
        owner,
        "/api/v1/appointments/",
        {"service": cut.pk, "start": (start + timedelta(minutes=30)).isoformat(), "staff": anna.pk},
    )
    body = {
        "services": [{"service": cut.pk, "staff": anna.pk}, {"service": colour.pk, "staff": anna.pk}],
        "start": start.isoformat(),
    }
    clash = post(owner, "/api/v1/visits/", body)
    assert clash.status_code == 409 and clash.json()["detail"]
    one = post(owner, "/api/v1/visits/", {"services": body["services"][:1], "start": start.isoformat()})
    assert one.status_code == 400 and "services" in one.json()
    with schema_context(business.schema):
        assert not Appointment.objects.filter(visit__isnull=False).exists()


def test_processing_time_on_services_is_checked_with_a_sentence(shop):
    business, _cut, colour, _staff = shop
    owner = log_in_as(business, "owner")
    bad = client_patch(owner, f"/api/v1/services/{colour.pk}/", {"processing_minutes": 50})
    assert bad.status_code == 400 and "processing_minutes" in bad.json()
    group = client_patch(owner, f"/api/v1/services/{colour.pk}/", {"capacity": 3})
    assert group.status_code == 400
    fine = client_patch(owner, f"/api/v1/services/{colour.pk}/", {"processing_minutes": 20})
    assert fine.status_code == 200 and fine.json()["processing_minutes"] == 20


def client_patch(client, path, data):
    return client.patch(path, data, content_type="application/json")


def test_a_staff_member_sees_only_visits_in_their_column(shop):
    business, cut, colour, (anna, ben) = shop
    owner = log_in_as(business, "owner")
    start = next_monday()
    visit = post(
        owner,
        "/api/v1/visits/",
        {
            "services": [{"service": cut.pk, "staff": ben.pk}, {"service": colour.pk, "staff": ben.pk}],
            "start": start.isoformat(),
        },
    ).json()
    user = make_user(business, "staff")
    with schema_context(business.schema):
        anna.user = user
        anna.save()
    anna_client = log_in_as(business, "staff", user=user)
    assert anna_client.get(f"/api/v1/visits/{visit['id']}/").status_code == 404
    assert post(anna_client, f"/api/v1/visits/{visit['id']}/cancel/").status_code == 404


def test_another_business_cannot_see_or_cancel_the_visit(shop, business_b):
    business, cut, colour, _staff = shop
    owner = log_in_as(business, "owner")
    visit = post(
        owner,
        "/api/v1/visits/",
        {"services": [{"service": cut.pk}, {"service": colour.pk}], "start": next_monday().isoformat()},
    ).json()
    other = log_in_as(business_b, "owner")
    assert other.get(f"/api/v1/visits/{visit['id']}/").status_code == 404
    assert post(other, f"/api/v1/visits/{visit['id']}/cancel/").status_code == 404
    refused = post(
        other,
        "/api/v1/visits/",
        {"services": [{"service": cut.pk}, {"service": colour.pk}], "start": next_monday().isoformat()},
    )
    assert refused.status_code == 400  # A's services do not exist at B
    with schema_context(business.schema):
        assert Allocation.objects.filter(active=True).count() == 3  # cut, and the colour's two pieces
