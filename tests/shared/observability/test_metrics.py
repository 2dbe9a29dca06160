"""/metrics speaks Prometheus' text format and is closed to the internet."""

import pytest
import redis
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.notifications import services
from tests.conftest import client_for
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


def scrape(**headers) -> dict[str, dict[tuple, float]]:
    response = client_for("10.0.0.7:8000").get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_requests_are_counted_by_route_and_status(business_a):
    before = scrape()
    for _ in range(3):
        assert client_for(business_a.host).get("/login/").status_code == 200
    client_for(business_a.host).get("/no-such-page/")
    after = scrape()
    labels = {"method": "GET", "route": "/login/", "status": "200"}
    assert (
        value(after, "termino_http_requests_total", **labels)
        - value(before, "termino_http_requests_total", **labels)
        == 3
    )
    assert value(after, "termino_http_request_duration_seconds_count", method="GET", route="/login/") >= 3
    assert value(after, "termino_http_requests_total", method="GET", route="unmatched", status="404") >= 1


def test_queue_length_is_read_from_the_broker(settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL.rsplit("/", 1)[0] + "/7"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")
    try:
        broker.rpush("celery", *[b"task"] * 4)
        assert value(scrape(), "termino_queue_length", queue="celery") == 4
        broker.lpop("celery")
        assert value(scrape(), "termino_queue_length", queue="celery") == 3
    finally:
        broker.delete("celery")


def test_messages_are_counted_by_channel_and_outcome(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    before = scrape()
    with FakeLox24() as fake, schema_context(business_a.schema):
        counts = services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
    after = scrape()
    assert counts.get("sent", 0) >= 1
    sent = sum(
        value(after, "termino_messages_total", channel=channel, status="sent")
        - value(before, "termino_messages_total", channel=channel, status="sent")
        for channel in ("sms", "email")
    )
    assert sent == counts["sent"]


def test_businesses_by_status(business_a, business_b):
    assert (
        value(scrape(), "termino_businesses", status="active")
        + value(scrape(), "termino_businesses", status="trial")
        >= 2
    )


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("10.42.0.9", {}, True),  # a scraper inside the cluster
        ("203.0.113.5", {}, False),  # the internet
        # Through the ingress: every request comes from a private address, with X-Forwarded-For.
        ("10.42.0.3", {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, False),
        ("10.42.0.3", {"HTTP_X_FORWARDED_FOR": "10.42.0.9"}, False),
    ],
)
def test_without_token_only_direct_private_callers(remote, headers, allowed):
    response = client_for("10.0.0.7").get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == (200 if allowed else 403)


def test_with_token_everyone_needs_it(settings):
    settings.METRICS_TOKEN = "scrape-secret-42"
    client = client_for("10.0.0.7")
    assert client.get("/metrics").status_code == 403  # loopback too
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get(
        "/metrics",
        HTTP_AUTHORIZATION="Bearer scrape-secret-42",
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert response.status_code == 200
    assert b"termino_queue_length" in response.content


def test_metrics_reveal_no_business(business_a):
    client_for(business_a.host).get("/login/")
    body = client_for("10.0.0.7").get("/metrics").content.decode()
    assert business_a.schema not in body
    assert business_a.tenant.slug not in body
