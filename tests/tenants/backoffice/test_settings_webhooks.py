"""The webhook settings pages: owner only; add an endpoint (secret shown once), see the delivery log with
its attempts, resend, edit, rotate, delete; bad input a 400 with the form; B never reaches A's."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.webhooks.delivery import deliveries_send_due
from termino.tenants.webhooks.models import Delivery, Endpoint
from tests.fakes.webhook_receiver import Receiver
from tests.tenants.webhooks.helpers import booking

from .helpers import log_in_as

pytestmark = pytest.mark.django_db
PAGE = "/settings/webhooks/"


def test_the_owner_adds_an_endpoint_sees_its_secret_once_and_resends_a_delivery(business_a):
    owner = log_in_as(business_a)
    assert b"Webhooks" in owner.get("/settings/profile/").content  # the settings tab
    with Receiver() as receiver:
        response = owner.post(
            PAGE, {"url": receiver.url, "description": "CRM", "events": ["appointment.created"]}
        )
        assert response.status_code == 302
        with schema_context(business_a.schema):
            endpoint = Endpoint.objects.get()
        page = owner.get(response["Location"])
        assert endpoint.secret in page.content.decode()
        assert endpoint.secret not in owner.get(response["Location"]).content.decode()  # once

        with schema_context(business_a.schema):
            booking()
            receiver.answer(500)
            deliveries_send_due()
            delivery = Delivery.objects.get()
        page = owner.get(response["Location"]).content.decode()
        assert "appointment.created" in page and "HTTP 500" in page
        with schema_context(business_a.schema):
            Delivery.objects.update(status="failed")
        resent = owner.post(f"{PAGE}{endpoint.pk}/deliveries/{delivery.pk}/resend/", follow=True)
        assert "Queued again" in resent.content.decode()
        with schema_context(business_a.schema):
            deliveries_send_due()
            assert Delivery.objects.get().status == "delivered"

    rotated = owner.post(f"{PAGE}{endpoint.pk}/rotate-secret/", follow=True).content.decode()
    with schema_context(business_a.schema):
        endpoint_after = Endpoint.objects.get()
    assert endpoint_after.secret != endpoint.secret and endpoint_after.secret in rotated
    edited = owner.post(f"{PAGE}{endpoint.pk}/", {"url": endpoint.url, "events": ["customer.created"]})
    assert edited.status_code == 302
    with schema_context(business_a.schema):
        assert Endpoint.objects.get().events == ["customer.created"] and not Endpoint.objects.get().active
    assert owner.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 302
    with schema_context(business_a.schema):
        assert not Endpoint.objects.exists()


def test_bad_input_shows_the_form_again_with_a_400(business_a, settings):
    owner = log_in_as(business_a)
    assert owner.post(PAGE, {"url": "http://127.0.0.1/x"}).status_code == 400  # no events
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = owner.post(PAGE, {"url": "http://192.168.0.2/x", "events": ["customer.created"]})
    assert response.status_code == 400 and "private or reserved" in response.content.decode()
    with schema_context(business_a.schema):
        assert not Endpoint.objects.exists()


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_the_owner_opens_it(business_a, role):
    client = log_in_as(business_a, role)
    assert client.get(PAGE).status_code == 403
    assert b"/settings/webhooks/" not in client.get("/settings/profile/").content


def test_business_b_never_reaches_as_endpoint_or_log(business_a, business_b):
    with schema_context(business_a.schema):
        from tests.tenants.webhooks.helpers import endpoint

        hook = endpoint("http://127.0.0.1:9/a")
        booking()
        delivery = Delivery.objects.first()
    other = log_in_as(business_b)
    assert b"127.0.0.1:9" not in other.get(PAGE).content
    assert other.get(f"{PAGE}{hook.pk}/").status_code == 404
    assert other.post(f"{PAGE}{hook.pk}/delete/").status_code == 404
    assert other.post(f"{PAGE}{hook.pk}/rotate-secret/").status_code == 404
    assert other.post(f"{PAGE}{hook.pk}/deliveries/{delivery.pk}/resend/").status_code == 404
    with schema_context(business_a.schema):
        assert Endpoint.objects.filter(pk=hook.pk).exists()
