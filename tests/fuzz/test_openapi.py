"""Schemathesis over the whole OpenAPI schema of a business, run through the app itself (no network).

The schema is what drf-spectacular serves at /api/schema/ (test_the_app_serves_this_schema checks that
the app serves exactly the schema fuzzed here). The staff API (/api/v1/) is fuzzed with A's owner's API
token, the public booking API and the token endpoint anonymously, at business A's host through the WSGI
app, inside the test's transaction. Examples are bounded and derandomized, so a run is repeatable and
short. No answer may be a 5xx; the response checks that fit this API run too (CONFIG lists the others).

The schema is loaded at collection time rather than through `schemathesis.pytest.from_fixture`, whose
per-operation reporting breaks on pytest 9.2 (it sets `Node._nodeid`, which pytest 9.2 no longer has).
"""

import json
import os
import re
import secrets
from datetime import time

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.cache import caches
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from termino.tenants.accounts.models import User
from termino.tenants.accounts.services import api_token_create
from termino.tenants.booking import services as booking_services
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import services
from termino.tenants.scheduling.models import Appointment, Closure, WeeklyHours
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db

# Per operation; `FUZZ_MAX_EXAMPLES=500 make test` digs deeper.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260508,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": False},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            # drf-spectacular documents the success responses only, not 400/401/403/404/409/429.
            "status_code_conformance": {"enabled": False},
            # Schema-valid is not valid here: ids that do not exist, an end before the start, a time
            # outside the opening hours. Such requests are rightly refused with 400/404/409.
            "positive_data_acceptance": {"enabled": False},
            # DRF reads a body that is no object (`0`, garbage multipart) as empty: with every field
            # optional (cancel's reason) such a request goes through. Lenient, not harmful.
            "negative_data_rejection": {"enabled": False},
        },
    }
)
FUZZ_SETTINGS = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


WSGI_APP = get_wsgi_application()


def generated_schema() -> dict:
    """The OpenAPI schema as /api/schema/ builds it (drf-spectacular, the tenant URLconf), as plain JSON.

    Built at collection time, when there is no database yet (the tenant routing needs one to answer a
    request): test_the_app_serves_this_schema makes sure the app serves exactly this.
    """
    generator = SchemaGenerator(urlconf=settings.ROOT_URLCONF)
    return json.loads(json.dumps(generator.get_schema(request=None, public=True), default=str))


RAW_SCHEMA = generated_schema()
SCHEMA = schemathesis.openapi.from_dict(RAW_SCHEMA, config=CONFIG)
SCHEMA.app = WSGI_APP  # calls go through the WSGI app, in this process, in the test's transaction
# Real ids and tokens of the objects the `known` fixture makes, by the path segment in front of them.
KNOWN: dict[str, object] = {}


@SCHEMA.hook
def map_path_parameters(context, path_parameters):
    """Every other generated id or token is swapped for a real one: random ids alone would nearly always
    meet a 404 and never exercise an update, a move or a cancellation."""
    segments = context.operation.path.strip("/").split("/")
    for name, value in (path_parameters or {}).items():
        marker = "{" + name + "}"
        if marker not in segments or segments.index(marker) == 0:
            continue
        known = KNOWN.get(segments[segments.index(marker) - 1])
        if known is not None and len(str(value)) % 2 == 0:
            path_parameters[name] = known
    return path_parameters


STAFF_PATHS, PUBLIC_PATHS = r"^/api/v1/(?!auth/)", r"^/api/(public/v1|v1/auth)/"
STAFF_API = SCHEMA.include(path_regex=STAFF_PATHS)
PUBLIC_API = SCHEMA.include(path_regex=PUBLIC_PATHS)


@pytest.fixture
def in_process():
    """Requests run in this test's transaction.

    Django closes a connection that is inside a transaction at each request's start and end (it looks
    broken to it); the test client switches that off, and so must we.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def no_throttles(settings):
    """Limits high enough that fuzzing never meets a 429."""
    settings.PUBLIC_RATE_LIMITS = dict.fromkeys(settings.PUBLIC_RATE_LIMITS, "100000/min")


@pytest.fixture
def owner_token(business_a, in_process, no_throttles):
    """Something to find at A (a bookable service with staff and hours, a customer, an appointment, a
    booking, a hold, a closure), and A's owner's API token."""
    with schema_context(business_a.schema):
        service, (staff, *_), room = salon()
        customer = Customer.objects.create(first_name="Fuzz", last_name="Kundin")
        appointment = services.appointment_create(
            booking=services.Booking(service=service, start=next_monday(time(10)), staff=staff),
            customer=customer,
        )
        manage_token = secrets.token_urlsafe(24)
        Appointment.objects.filter(pk=appointment.pk).update(manage_token=manage_token)
        hold = booking_services.hold_create(
            service_id=service.pk,
            start=next_monday(time(14)),
            resource_id=None,
            time_zone="Europe/Berlin",
            ip_key="fuzz",
            form_key="fuzz",
        )
        closure = Closure.objects.create(start=next_monday(time(20)), end=next_monday(time(22)), reason="F")
        KNOWN.clear()
        KNOWN.update(
            services=service.pk,
            resources=room.pk,
            hours=WeeklyHours.objects.first().pk,
            closures=closure.pk,
            appointments=appointment.pk,
            bookings=manage_token,
            holds=hold.manage_token,
        )
        return api_token_create(user=User.objects.get(role="owner"), name="fuzz").key


def call_and_validate(case, business, headers=None):
    """One example and the checks, in a savepoint that is rolled back: each example starts from the same
    data, and a database error in one cannot spoil the transaction for the next."""
    for alias in settings.CACHES:
        caches[alias].clear()
    with transaction.atomic():
        try:
            case.call_and_validate(base_url=f"http://{business.host}", headers=headers)
        finally:
            transaction.set_rollback(True)


def test_the_app_serves_this_schema(business_a, in_process):
    served = schemathesis.openapi.from_wsgi("/api/schema/", WSGI_APP, headers={"Host": business_a.host})
    assert json.loads(json.dumps(served.raw_schema, default=str)) == RAW_SCHEMA


def test_every_operation_is_fuzzed():
    paths = list(RAW_SCHEMA["paths"])
    assert len(paths) > 15
    left_out = [p for p in paths if not re.match(STAFF_PATHS, p) and not re.match(PUBLIC_PATHS, p)]
    assert not left_out, f"operations neither fuzz test covers: {left_out}"


@STAFF_API.parametrize()
@FUZZ_SETTINGS
def test_staff_api(case, business_a, owner_token):
    call_and_validate(case, business_a, {"Authorization": f"Token {owner_token}"})


@PUBLIC_API.parametrize()
@FUZZ_SETTINGS
def test_public_api(case, business_a, owner_token):
    call_and_validate(case, business_a)
