import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    # Django's setting_changed handler rebuilds the cache connections from the new CACHES.
    assert client_for(business_a.host).get("/login/").status_code == 200
