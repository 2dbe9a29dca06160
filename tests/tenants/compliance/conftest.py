"""The demo business that `make run` seeds (termino/platform/tenancy/demo.py and termino/tenants/demo.py),
made for real and removed afterwards."""

import pytest
from django_tenants.utils import schema_context

from termino.platform.tenancy import services
from termino.platform.tenancy.demo import DEMO_STAFF, demo_signup
from termino.platform.tenancy.models import Tenant
from termino.tenants.demo import demo_business_fill
from tests.conftest import Business


@pytest.fixture
def demo_business(committed_db):
    Tenant.objects.filter(slug="demo").exclude(status="spare").first() is None or pytest.fail("demo exists")
    signup = demo_signup()
    tenant = services.tenant_provision(signup=signup)
    try:
        with schema_context(tenant.schema_name):
            demo_business_fill(time_zone=tenant.time_zone, staff_password=DEMO_STAFF["password"])
        yield Business(
            tenant=tenant,
            host=services.business_host("demo"),
            owner_username=signup.email,
            password="Demo-Termino-2026",
        )
    finally:
        services.tenant_delete(tenant=Tenant.objects.get(pk=tenant.pk))


def log_in(business, username: str | None = None, language: str = "en"):
    from tests.conftest import client_for

    client = client_for(business.host, language)
    response = client.post(
        "/login/", {"username": username or business.owner_username, "password": business.password}
    )
    assert response.status_code == 302, response.content.decode()[:300]
    return client
