"""The staff API of webhooks: owner only, endpoints made and changed (secret shown once), the delivery log
with its attempts, resend; bad input a 400 with a message; business B never sees A's."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.webhooks.delivery import deliveries_send_due
from termino.tenants.webhooks.models import Delivery, Endpoint
from tests.conftest import client_for
from tests.fakes.webhook_receiver import Receiver

from .helpers import booking

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks/"


def api_client(business, role="owner"):
    with schema_context(business.schema):
        users = get_user_model().objects
        if role == "owner":
            user = users.get(username=business.owner_username)
        else:
            user = users.create_user(username=f"{role}@example.org", password="x" * 12, role=role)
        token = api_token_create(user=user, name="tests").key
    client = client_for(business.host, "en")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


def test_the_owner_manages_endpoints_and_sees_the_secret_only_when_made_or_rotated(business_a, receiver):
    owner = api_client(business_a)
    made = post(owner, f"{BASE}endpoints/", {"url": receiver.url, "events": ["appointment.created"]})
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    pk = made.json()["id"]
    listed = owner.get(f"{BASE}endpoints/").json()["results"]
    assert [e["id"] for e in listed] == [pk] and "secret" not in listed[0]
    assert "secret" not in owner.get(f"{BASE}endpoints/{pk}/").json()

    rotated = post(owner, f"{BASE}endpoints/{pk}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] not in ("", secret)

    changed = owner.patch(
        f"{BASE}endpoints/{pk}/",
        {"events": ["customer.created"], "active": False},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["customer.created"] and changed.json()["active"] is False
    assert owner.delete(f"{BASE}endpoints/{pk}/").status_code == 204
    assert owner.get(f"{BASE}endpoints/{pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "", "events": ["customer.created"]}, "url"),
        ({"url": "http://127.0.0.1/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1/x", "events": ["customer.deleted"]}, "events"),
        ({"url": "gopher://127.0.0.1/x", "events": ["customer.created"]}, "detail"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_stores_nothing(business_a, body, field):
    response = post(api_client(business_a), f"{BASE}endpoints/", body)
    assert response.status_code == 400 and field in response.json()
    with schema_context(business_a.schema):
        assert not Endpoint.objects.exists()


def test_a_private_target_is_refused_in_production(business_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = post(
        api_client(business_a),
        f"{BASE}endpoints/",
        {"url": "http://10.0.0.1/", "events": ["customer.created"]},
    )
    assert response.status_code == 400 and "private or reserved" in response.json()["detail"]


def test_messages_speak_the_callers_language(business_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    client = api_client(business_a)
    body = {"url": "http://10.0.0.1/", "events": ["customer.created"]}
    response = client.post(
        f"{BASE}endpoints/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "verweist auf eine private oder reservierte Adresse" in response.json()["detail"]


def test_a_duplicate_url_is_a_400(business_a, receiver):
    owner = api_client(business_a)
    body = {"url": receiver.url, "events": ["customer.created"]}
    assert post(owner, f"{BASE}endpoints/", body).status_code == 201
    response = post(owner, f"{BASE}endpoints/", body)
    assert response.status_code == 400 and "exists already" in response.json()["detail"]


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_the_owner_may_use_it(business_a, role):
    client = api_client(business_a, role)
    assert client.get(f"{BASE}endpoints/").status_code == 403
    assert client.get(f"{BASE}deliveries/").status_code == 403
    assert (
        post(
            client, f"{BASE}endpoints/", {"url": "http://127.0.0.1/", "events": ["customer.created"]}
        ).status_code
        == 403
    )
    assert client_for(business_a.host).get(f"{BASE}endpoints/").status_code == 401


def test_the_delivery_log_shows_attempts_and_resends(business_a, receiver):
    owner = api_client(business_a)
    pk = post(owner, f"{BASE}endpoints/", {"url": receiver.url, "events": ["appointment.created"]}).json()[
        "id"
    ]
    with schema_context(business_a.schema):
        booking()
        receiver.answer(503)
        deliveries_send_due()
    log = owner.get(f"{BASE}deliveries/", {"endpoint": pk}).json()["results"]
    assert [(d["event"], d["status"], d["last_status_code"]) for d in log] == [
        ("appointment.created", "pending", 503)
    ]
    detail = owner.get(f"{BASE}deliveries/{log[0]['id']}/").json()
    assert detail["attempt_log"][0]["status_code"] == 503 and detail["payload"]["appointment"]["id"]
    assert len(detail["attempt_log"][0]["response_excerpt"]) == 500  # the long answer, truncated
    # Still open: no resend yet.
    assert post(owner, f"{BASE}deliveries/{log[0]['id']}/resend/").status_code == 400
    with schema_context(business_a.schema):
        Delivery.objects.update(status="failed")
    resent = post(owner, f"{BASE}deliveries/{log[0]['id']}/resend/")
    assert resent.status_code == 202 and resent.json()["status"] == "pending"
    with schema_context(business_a.schema):
        deliveries_send_due()
    assert owner.get(f"{BASE}deliveries/", {"status": "delivered"}).json()["count"] == 1
    assert owner.get(f"{BASE}deliveries/", {"status": "nonsense"}).status_code == 400


def test_business_b_never_sees_or_changes_as_endpoints_and_deliveries(business_a, business_b, receiver):
    owner_a, owner_b = api_client(business_a), api_client(business_b)
    endpoint_id = post(
        owner_a, f"{BASE}endpoints/", {"url": receiver.url, "events": ["appointment.created"]}
    ).json()["id"]
    with schema_context(business_a.schema):
        booking()
        delivery_id = Delivery.objects.get().pk
    assert owner_b.get(f"{BASE}endpoints/").json()["results"] == []
    assert owner_b.get(f"{BASE}deliveries/").json()["results"] == []
    assert owner_b.get(f"{BASE}endpoints/{endpoint_id}/").status_code == 404
    assert owner_b.delete(f"{BASE}endpoints/{endpoint_id}/").status_code == 404
    assert post(owner_b, f"{BASE}endpoints/{endpoint_id}/rotate-secret/").status_code == 404
    assert owner_b.get(f"{BASE}deliveries/{delivery_id}/").status_code == 404
    assert post(owner_b, f"{BASE}deliveries/{delivery_id}/resend/").status_code == 404
    # A's token is unknown at B's host.
    stolen = client_for(business_b.host)
    stolen.defaults["HTTP_AUTHORIZATION"] = owner_a.defaults["HTTP_AUTHORIZATION"]
    assert stolen.get(f"{BASE}deliveries/").status_code == 401
    with schema_context(business_a.schema):
        assert Endpoint.objects.filter(pk=endpoint_id).exists()


def test_the_integrations_are_in_the_openapi_schema(business_a):
    """Webhooks and calendar sync are described in the schema the API documentation shows."""
    paths = api_client(business_a).get("/api/schema/?format=json").json()["paths"]
    assert {
        "/api/v1/webhooks/endpoints/",
        "/api/v1/webhooks/endpoints/{id}/",
        "/api/v1/webhooks/deliveries/",
        "/api/v1/webhooks/deliveries/{id}/resend/",
        "/api/v1/calendar/feed/",
        "/api/v1/calendar/business-feed/",
        "/api/v1/calendar/settings/",
        "/api/v1/calendar/caldav/",
        "/api/v1/calendar/caldav/sync/",
    } <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/webhooks/endpoints/"])
    assert "post" in paths["/api/v1/calendar/caldav/sync/"]
