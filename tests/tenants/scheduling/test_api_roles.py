"""A staff member's token reaches only their own calendar column; reference data is read-only to them."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.models import Appointment, Resource, Service
from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import make_user

from .factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
    user = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        Resource.objects.filter(pk=staff[1].pk).update(user=user)
        theirs = scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[0])
        )
        mine = scheduling.appointment_create(
            booking=scheduling.Booking(service=service, start=next_monday(), staff=staff[1])
        )
    client = client_for(business_a.host, "en")
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).json()[
        "token"
    ]
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client, service, staff, theirs, mine


def test_staff_lists_and_reads_only_their_own_appointments(business_a, staff_api):
    client, _service, _staff, theirs, mine = staff_api
    listed = [a["id"] for a in client.get("/api/v1/appointments/").json()["results"]]
    assert listed == [mine.pk]
    assert client.get(f"/api/v1/appointments/{theirs.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/appointments/{theirs.pk}/cancel/", {}, content_type="application/json"
        ).status_code
        == 404
    )


def test_staff_books_only_in_their_own_column(business_a, staff_api):
    client, service, staff, _theirs, _mine = staff_api
    start = next_monday().replace(hour=12).isoformat()
    other = {"service": service.pk, "start": start, "staff": staff[0].pk}
    assert client.post("/api/v1/appointments/", other, content_type="application/json").status_code == 403
    own = {"service": service.pk, "start": start}
    response = client.post("/api/v1/appointments/", own, content_type="application/json")
    assert response.status_code == 201 and response.json()["resources"] == [staff[1].pk]
    with schema_context(business_a.schema):
        assert Appointment.objects.count() == 3


def test_staff_cannot_change_reference_data(business_a, staff_api):
    client, service, _staff, _theirs, _mine = staff_api
    assert client.get("/api/v1/services/").status_code == 200
    response = client.patch(
        f"/api/v1/services/{service.pk}/", {"name": "Gratis"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert (
        client.post(
            "/api/v1/resources/", {"kind": "room", "name": "X"}, content_type="application/json"
        ).status_code
        == 403
    )
    with schema_context(business_a.schema):
        assert Service.objects.get(pk=service.pk).name == "Haarschnitt"
