"""SSRF: targets resolving to private, loopback, link-local or reserved addresses are refused when saved
and again when sent (the address connected to is the one checked), unless the setting allows them."""

import pytest
from django_tenants.utils import schema_context

from termino.shared.errors import InvalidRequest
from termino.tenants.webhooks import services, targets, transport
from termino.tenants.webhooks.delivery import deliveries_send_due
from termino.tenants.webhooks.models import Attempt, Delivery, EventType
from tests.fakes.serving import serve_in_thread, stop_serving
from tests.fakes.webhook_receiver import Receiver

from .helpers import booking, endpoint

FORBIDDEN = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://100.64.0.1/hook",  # shared address space (CGNAT)
    "http://0.0.0.0/hook",
    "http://240.0.0.1/hook",  # reserved
    "http://224.0.0.1/hook",  # multicast
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private address
]


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize("url", FORBIDDEN)
def test_private_and_reserved_targets_are_refused(production, url):
    with pytest.raises(targets.TargetRefused, match="private or reserved"):
        targets.resolve(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/x", "https://"),
        ("https:///nohost", "https://"),
        ("https://user:pw@example.org/", "user name or password"),
        ("https://example.org:99999/", "not a valid URL"),
    ],
)
def test_urls_that_are_no_web_address_are_refused(url, message):
    with pytest.raises(targets.TargetRefused, match=message):
        targets.resolve(url)


def test_a_public_address_is_allowed(production):
    # An address literal: no DNS lookup, no connection.
    assert targets.resolve("https://93.184.216.34/hook")[3] == ["93.184.216.34"]


@pytest.mark.django_db
def test_registration_refuses_a_private_target_with_a_clear_message(production, business_a):
    with schema_context(business_a.schema), pytest.raises(InvalidRequest, match="private or reserved"):
        services.endpoint_create(url="http://127.0.0.1:9/hook", events=[EventType.CUSTOMER_CREATED])


@pytest.mark.django_db
def test_a_target_allowed_once_is_checked_again_at_send_time(settings, business_a):
    """Saved while allowed (as a host whose DNS answer later turns private would be): the send refuses it
    without connecting, and logs why."""
    with Receiver() as receiver, schema_context(business_a.schema):
        endpoint(receiver.url, [EventType.CUSTOMER_CREATED])
        booking()
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        deliveries_send_due()
        assert receiver.requests == []
        attempt = Attempt.objects.get()
        assert attempt.status_code is None and "private or reserved" in attempt.error
        assert Delivery.objects.get().status == "pending"  # retried later, like any failure


def test_the_transport_follows_no_redirect(settings):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    serve_in_thread(server)
    try:
        answer = transport.post(url=f"http://127.0.0.1:{server.server_address[1]}/x", body=b"{}", headers={})
    finally:
        stop_serving(server)
    assert answer.status_code == 302
