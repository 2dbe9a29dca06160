import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from termino.platform.tenancy import routing
from termino.platform.tenancy.models import Domain, Tenant, TenantStatus
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_platform_host_serves_the_landing_page():
    response = client_for("localhost").get("/")
    assert response.status_code == 200
    assert b"/signup/" in response.content


def test_www_and_port_and_case_route_to_the_platform():
    assert client_for("WWW.Localhost:8000").get("/").status_code == 200


def test_business_host_serves_the_business(business_a):
    response = client_for(business_a.host).get("/login/")
    assert response.status_code == 200
    assert business_a.tenant.name.encode() in response.content


def test_unknown_host_gets_a_friendly_404():
    response = client_for("nobody-here.localhost").get("/anything/")
    assert response.status_code == 404
    assert b"nobody-here.localhost" in response.content
    assert b"<html" in response.content


def test_steady_state_routing_costs_no_query(business_a):
    client = client_for(business_a.host)
    client.get("/login/")  # warms the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/login/")
    assert response.status_code == 200
    assert [q["sql"] for q in queries.captured_queries if "tenancy_" in q["sql"]] == []


def test_unknown_hosts_are_cached_too():
    client_for("ghost.localhost").get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client_for("ghost.localhost").get("/").status_code == 404
    assert len(queries) == 0


def test_new_domain_is_routed_once_committed(business_a, django_capture_on_commit_callbacks):
    assert client_for("booking.alpha-salon.example").get("/login/").status_code == 404  # cached as unknown
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.create(
            domain="booking.alpha-salon.example", tenant=business_a.tenant, is_primary=False
        )
    assert client_for("booking.alpha-salon.example").get("/login/").status_code == 200


def test_renamed_domain_stops_routing_the_old_host(business_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        domain = Domain.objects.create(domain="old.example", tenant=business_a.tenant, is_primary=False)
    assert client_for("old.example").get("/login/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        domain.domain = "new.example"
        domain.save()
    assert client_for("old.example").get("/login/").status_code == 404
    assert client_for("new.example").get("/login/").status_code == 200


def test_deleted_domain_stops_routing(business_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        domain = Domain.objects.create(domain="gone.example", tenant=business_a.tenant, is_primary=False)
    assert client_for("gone.example").get("/login/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        domain.delete()
    assert client_for("gone.example").get("/login/").status_code == 404


@pytest.mark.parametrize("status", [TenantStatus.SUSPENDED, TenantStatus.CANCELLED])
def test_closed_business_shows_a_clear_page(business_a, status, django_capture_on_commit_callbacks):
    client = client_for(business_a.host)
    assert client.get("/login/").status_code == 200  # cached as open
    tenant = Tenant.objects.get(pk=business_a.tenant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tenant.status = status
        tenant.save()
    response = client.get("/book/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert b"Online booking" in response.content
    assert business_a.tenant.name.encode() in response.content
    assert client.get("/api/public/v1/services/").status_code == 403
    assert client.get("/").status_code == 403  # customers see the closed page at the root too
    # The owner can still log in (and is then sent to the billing page: test_closed_pages.py).
    assert client.get("/login/").status_code == 200


def test_closed_page_speaks_german_by_default(business_a, django_capture_on_commit_callbacks):
    tenant = Tenant.objects.get(pk=business_a.tenant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tenant.status = TenantStatus.SUSPENDED
        tenant.save()
    response = client_for(business_a.host).get("/book/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Online-Buchung ist derzeit nicht möglich" in response.content.decode()
    assert "gesperrt" not in response.content.decode()


def test_routing_survives_a_cache_outage(business_a, settings):
    settings.CACHES = {
        **settings.CACHES,
        "platform": {
            "BACKEND": "termino.shared.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    # Django's setting_changed handler rebuilds the cache connections from the new CACHES.
    assert client_for(business_a.host).get("/login/").status_code == 200


def test_steady_state_routing_does_not_ask_redis_either(business_a, settings):
    """The process's own dictionary answers; Redis is asked for the routing version at most every
    ROUTING_LOCAL_SECONDS."""
    settings.ROUTING_LOCAL_SECONDS = 60
    routing.tenant_for_host(business_a.host)
    redis = caches["platform"]._cache.get_client()
    before = redis.info("stats")["total_commands_processed"]
    for _ in range(20):
        assert routing.tenant_for_host(business_a.host).pk == business_a.tenant.pk
    # INFO itself is one command.
    assert redis.info("stats")["total_commands_processed"] - before == 1


def test_a_change_made_by_another_process_reaches_this_one_within_the_interval(business_a, settings):
    settings.ROUTING_LOCAL_SECONDS = 0.2
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.TRIAL
    # Another process suspends the business: its signal deletes the Redis entry and moves the version;
    # this process's dictionary is not told directly.
    Tenant.objects.filter(pk=business_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    platform = caches["platform"]
    platform.delete(routing._cache_key(business_a.host))
    platform.set(routing.VERSION_KEY, (platform.get(routing.VERSION_KEY) or 0) + 1, None)
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.TRIAL  # within the interval
    time.sleep(0.25)
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.SUSPENDED


def test_without_redis_the_dictionary_is_not_trusted(business_a, settings):
    """A process that cannot read the routing version cannot know of changes: it reads the database."""
    settings.ROUTING_LOCAL_SECONDS = 0
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.TRIAL
    Tenant.objects.filter(pk=business_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    settings.CACHES = {
        **settings.CACHES,
        "platform": {
            "BACKEND": "termino.shared.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.SUSPENDED


@pytest.mark.parametrize("header", ["bad host", "evil.localhost:notaport", "[::1"])
def test_a_malformed_host_header_is_a_400_every_time(header):
    for _ in range(2):  # the second time too: what get_host() refuses is never remembered
        assert client_for(header).get("/").status_code == 400


def test_the_same_host_header_is_parsed_once_and_routes_the_same(business_a):
    from django.test import RequestFactory

    hosts = routing._RequestHosts()
    request = RequestFactory().get("/", HTTP_HOST=business_a.host.upper() + ":8443")
    assert hosts.get(request) == business_a.host
    # Remembered by the raw header: a request whose get_host() would now fail still gets the parsed host.
    request.get_host = None
    assert hosts.get(request) == business_a.host
    other = RequestFactory().get("/", HTTP_HOST="localhost")
    assert hosts.get(other) == "localhost"


def test_a_change_after_redis_lost_its_data_still_reaches_every_process(business_a, settings):
    """A dictionary filled under the first version must not be trusted again when Redis, having lost its
    data, starts counting anew: the version starts at a random number, not at 1."""
    settings.ROUTING_LOCAL_SECONDS = 0
    platform = caches["platform"]
    routing.forget_hosts([business_a.host])  # a change: the version now exists
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.TRIAL  # filled under it
    filled_under = platform.get(routing.VERSION_KEY)
    platform.clear()  # Redis restarted without its data
    Tenant.objects.filter(pk=business_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    # Another process makes the change known; this process's dictionary is not told directly.
    local = routing._local.entries.copy()
    routing.forget_hosts([business_a.host])
    routing._local.entries.update(local)
    assert platform.get(routing.VERSION_KEY) != filled_under
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.SUSPENDED


def test_a_dictionary_filled_before_any_change_is_not_trusted_after_redis_lost_its_data(business_a, settings):
    """The version did not exist when this process filled its dictionary; another process's change was
    announced, and Redis lost its data before this process looked. The version it finds then is a new
    random one, not the "no version" it filled the dictionary under."""
    settings.ROUTING_LOCAL_SECONDS = 0
    platform = caches["platform"]
    platform.delete(routing.VERSION_KEY)
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.TRIAL  # filled
    Tenant.objects.filter(pk=business_a.tenant.pk).update(status=TenantStatus.SUSPENDED)
    local = routing._local.entries.copy()
    routing.forget_hosts([business_a.host])  # another process announces its change ...
    routing._local.entries.update(local)
    platform.clear()  # ... and Redis restarts without its data before this process checked
    assert routing.tenant_for_host(business_a.host).status == TenantStatus.SUSPENDED
