"""Fixtures shared by the whole suite.

The test database is migrated once per session, and two businesses (A and B) are provisioned once,
committed, through the real signup service. Ordinary tests run inside a transaction that is rolled back,
so they are fast and leave A and B as they were. Tests that need committed data or real concurrent
connections use `committed_db` and clean up what they made.
"""

import functools
import itertools
from dataclasses import dataclass

import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.utils import translation

from termino.platform.legal import facts_memory
from termino.platform.tenancy import routing, services
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.tenants.accounts import token_memory

from . import clock
from .spare_pool import SparePool

PASSWORD = "Kalender-Blau-2026"
_serial = itertools.count(1)
spare_pool = SparePool()


@dataclass
class Business:
    tenant: Tenant
    host: str
    owner_username: str
    password: str = PASSWORD

    @property
    def schema(self) -> str:
        return self.tenant.schema_name


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)


def make_signup(slug: str, **overrides) -> services.BusinessSignup:
    data = {
        "slug": slug,
        "company_name": f"{slug.title()} GmbH",
        "owner_name": "Erika Mustermann",
        "email": f"owner@{slug}.example",
        "password_hash": password_hash(),
        "phone": "+493012345678",
        "street": "Hauptstraße 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "language": "de",
    }
    data.update(overrides)
    return services.BusinessSignup(**data)


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{next(_serial)}-{services.secrets.token_hex(3)}"


def provision(slug: str, **overrides) -> Business:
    signup = make_signup(slug, **overrides)
    tenant = services.tenant_provision(signup=signup)
    return Business(tenant=tenant, host=services.business_host(slug), owner_username=signup.email)


# --- The pinned clock (tests/clock.py) ------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption(
        "--clock-matrix",
        choices=("on", "full", "off"),
        default="on",
        help=(
            "run tests marked `clock` at every instant of tests/clock.py's MATRIX (on), browser tests also in"
            " every variant at every instant (full), or only at DEFAULT (off)"
        ),
    )


def pytest_configure(config):
    # Session set-up (migrations, businesses A and B) happens at the default instant too.
    clock.install_subprocess_hook()
    config._termino_session_pin = clock.Pin(clock.SESSION_START).start()


def pytest_unconfigure(config):
    pin = getattr(config, "_termino_session_pin", None)
    if pin is not None:
        pin.stop()


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("clock") is None:
        return
    names = ["default"]
    if metafunc.config.getoption("--clock-matrix") != "off":
        browser = metafunc.definition.get_closest_marker("browser") is not None
        names += list(clock.BROWSER_MATRIX if browser else clock.MATRIX)
    metafunc.fixturenames.append("pinned_now")
    metafunc.parametrize("pinned_now", names, indirect=True, ids=[f"at-{name}" for name in names])


def pytest_collection_modifyitems(config, items):
    """A browser test with variants (locale, device) runs each instant of BROWSER_MATRIX in one of them, in
    turn, and the default instant in all: every instant and every variant is covered, not every pair of
    them (tests/clock.py). `--clock-matrix=full` keeps the whole product."""
    if config.getoption("--clock-matrix") != "on":
        return
    variant_of = {item: clock.browser_variant(item) for item in items}
    variants: dict = {}  # test function -> its variants, in order (a dict as an ordered set)
    for item, variant in variant_of.items():
        if variant is not None:
            variants.setdefault(item.function, {})[variant] = None

    def runs(item) -> bool:
        instant = item.callspec.params["pinned_now"] if variant_of[item] is not None else "default"
        if instant == "default":
            return True
        own = list(variants[item.function])
        return own[clock.BROWSER_MATRIX.index(instant) % len(own)] == variant_of[item]

    items[:] = [item for item in items if runs(item)]


@pytest.fixture(autouse=True)
def pinned_now(request):
    """Every test starts at a pinned instant (UTC): DEFAULT, or one of MATRIX for `clock` tests."""
    name = getattr(request, "param", "default")
    moment = clock.DEFAULT if name == "default" else clock.MATRIX[name]
    pin = clock.Pin(moment).start()
    yield moment
    pin.stop()


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Migrated test database plus businesses A and B, committed for the whole session.

    Replaces pytest-django's fixture, which sets up only the databases that `django_db`-marked tests
    name: a session of `committed_db` tests alone would otherwise run against the real database.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"].startswith("test_"), "refusing to run on a non-test database"
        spare_pool.prepare()
        spare_pool.top_up()
        a = provision("alpha-salon", company_name="Alpha Salon")
        b = provision("beta-praxis", company_name="Beta Praxis")
        spare_pool.top_up()
    pytest.termino_businesses = (a, b)
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        # Server threads of browser tests may still hold connections; they must not block the drop.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture
def business_a(django_db_setup) -> Business:
    return pytest.termino_businesses[0]


@pytest.fixture
def business_b(django_db_setup) -> Business:
    return pytest.termino_businesses[1]


@pytest.fixture(autouse=True)
def _clean_state():
    """Every test starts in `public` with empty caches (Redis outlives transactions) and in English.

    The language is set, not inherited: a request's LocaleMiddleware leaves its language active in the
    thread, which would make a test's outcome depend on the test that ran before it.
    """
    for alias in settings.CACHES:
        caches[alias].clear()
    routing.forget_local_hosts()
    token_memory.forget_all_here()
    # No business has prepared statements of its own yet (termino/shared/db/prepared.py): the session's
    # statements do not outlive a test's transaction here, so neither does the count of who earned them.
    connection.prepared_uses.clear()
    connection.prepared_hot.clear()
    facts_memory.forget_here()
    # An embedded Celery worker (celery.contrib.testing) marks the process as a worker, whose tasks may not
    # wait for results; a worker started by an earlier test must not turn this test's `.get()` into an error.
    _set_task_join_will_block(False)
    translation.activate("en")
    yield
    connection.set_schema_to_public()


def client_for(host: str, language: str | None = None) -> Client:
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return Client(HTTP_HOST=host, **headers)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access without the per-test transaction: what a test commits is really committed.

    Businesses created with the returned `provision` helper are deleted, schema and all, afterwards.
    """
    made: list[Business] = []

    def _provision(slug: str, **overrides) -> Business:
        spare_pool.top_up()
        business = provision(slug, **overrides)
        made.append(business)
        spare_pool.top_up()  # so the refill the signup asked for finds nothing to do
        return business

    with django_db_blocker.unblock():
        spare_pool.top_up()  # what a signup through the site took in the test before
        yield _provision
        connection.set_schema_to_public()
        for business in made:
            services.tenant_delete(tenant=Tenant.objects.get(pk=business.tenant.pk))
        # Anything else a test left behind under its throw-away slugs.
        for tenant in Tenant.objects.filter(slug__startswith="t-").exclude(status=TenantStatus.SPARE):
            services.tenant_delete(tenant=tenant)
