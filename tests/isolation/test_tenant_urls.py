"""Every URL of a business (tenant URLconf), generated from the URLconf, attacked by business B.

For each pattern and each method it accepts, four visitors try business A's objects:
  anonymous          at A's host with A's ids and tokens: a login is required (public URLs listed in
                     policy.PUBLIC with the reason), and nothing confidential of A shows even on public pages;
  B's session        B's owner's session cookie at A's host: the session is unknown there, so the same;
  B's owner at B     logged in at B's own host, asking for A's ids and tokens: refused (403/404/...), and
                     no trace of A in the answer, even right after A's owner opened the same URL;
  B's API token      `Authorization: Token <B's key>` at A's host: 401/403 for the API, a login elsewhere.
Public URLs are attacked at A's host with B's tokens instead (A's own token is the credential there).
After every write attempt all tables of A (and of B, for attacks at A's host) must hold the same rows.
"""

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer

from . import urlwalk
from .attacks import (
    Unchanged,
    assert_absent,
    assert_login_required,
    assert_no_server_error,
    assert_refused,
    names_an_object,
    path_for,
    payload,
    send,
    unknown_params,
)
from .policy import PARAMS, PUBLIC, REVEALS_HOLDER_DATA
from .world import changed_tables, snapshot

pytestmark = pytest.mark.django_db

URLCONF = settings.ROOT_URLCONF
ENDPOINTS = urlwalk.endpoints(URLCONF)
CASES = [pytest.param(e, m, id=f"{m} {e.name}") for e in ENDPOINTS for m in e.methods]


def test_the_walk_finds_every_part_of_the_urlconf():
    names = {e.name for e in ENDPOINTS}
    assert {"accounts:login", "customers:detail", "booking:manage", "appointment-detail", "media"} <= names
    assert {"public_api:bookings", "api-token", "settings:outbox_resend", "team:accept"} <= names
    assert len(CASES) > 150


def test_the_snapshot_sees_every_kind_of_write(sides):
    """What `Unchanged` relies on: a changed field, a swap between two rows, an insert and a delete show."""
    a = sides.a
    with schema_context(a.schema):
        first, second = a.customer, a.other_customer
        steps = [
            lambda: Customer.objects.filter(pk=first.pk).update(notes="x"),
            lambda: (
                Customer.objects.filter(pk=first.pk).update(last_name=second.last_name),
                Customer.objects.filter(pk=second.pk).update(last_name=first.last_name),
            ),
            lambda: Customer.objects.create(first_name="New", last_name=a.mark("Neu")),
            lambda: Customer.objects.filter(pk=second.pk).delete(),
        ]
        for step in steps:
            before = snapshot(a.schema)
            step()
            assert changed_tables(before, snapshot(a.schema))
        assert not changed_tables(snapshot(a.schema), snapshot(a.schema))


def test_every_url_parameter_is_known():
    unknown = {f"{e.name}: {key}" for e in ENDPOINTS for key in unknown_params(e)}
    assert not unknown, (
        f"URL parameters the isolation suite cannot fill: {sorted(unknown)}. Add them to PARAMS in"
        " tests/isolation/policy.py (and the object to tests/isolation/world.py)."
    )


def test_the_lists_name_only_what_exists():
    names = {e.name for e in ENDPOINTS}
    assert not set(PUBLIC) - names, f"policy.PUBLIC names URLs that are gone: {sorted(set(PUBLIC) - names)}"
    keys = {p.key for e in ENDPOINTS for p in e.params}
    assert not set(PARAMS) - keys, f"policy.PARAMS has keys no URL uses: {sorted(set(PARAMS) - keys)}"


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if "GET" in e.methods and names_an_object(e)], ids=str
)
def test_the_values_are_real_objects_of_a(sides, endpoint):
    """A's owner opens each URL with A's values: they are real objects, so the attacks mean something."""
    response = sides.a.client(session=True).get(path_for(endpoint, sides.a, URLCONF))
    if response.status_code == 302:  # a one-time sign-in link signs in and moves on
        assert not response["Location"].startswith("/login/"), endpoint.name
    else:
        assert response.status_code == 200, (endpoint.name, response.status_code)


def test_a_s_owner_sees_the_markers_the_attacks_look_for(sides):
    response = sides.a.client(session=True).get(f"/customers/{sides.a.customer.pk}/")
    body = response.content.decode()
    assert sides.a.customer.last_name in body and sides.a.note.text in body
    response = sides.b.client(session=True).get(f"/customers/{sides.b.customer.pk}/")
    assert sides.b.customer.last_name in response.content.decode()


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_anonymous(sides, endpoint, method):
    a, public = sides.a, endpoint.name in PUBLIC
    what = f"anonymous {method} {endpoint.name} at A's host"
    path = path_for(endpoint, a, URLCONF)
    # Public URLs may write by design (a manage link cancels the booking); the rest must not.
    with Unchanged(a.schema, what=what, enabled=method != "GET" and not public):
        response = send(a.client(), method, path, payload(sides))
    assert_no_server_error(response, what)
    if not public:
        assert_login_required(response, what)
    hidden = a.confidential
    if endpoint.name in REVEALS_HOLDER_DATA:
        hidden = [t for t in hidden if t not in a.holder_data]
    assert_absent(response, hidden, what)


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_b_session_at_a_host(sides, endpoint, method):
    a, b, public = sides.a, sides.b, endpoint.name in PUBLIC
    what = f"B's session: {method} {endpoint.name} at A's host"
    path = path_for(endpoint, b if public else a, URLCONF)
    with Unchanged(a.schema, b.schema, what=what, enabled=method != "GET"):
        response = send(b.client(session=True, host=a.host), method, path, payload(sides))
    assert_no_server_error(response, what)
    if not public:
        assert_login_required(response, what)
    assert_absent(response, a.confidential + b.anything, what)


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_b_owner_with_a_ids_at_b_host(sides, endpoint, method):
    a, b, public = sides.a, sides.b, endpoint.name in PUBLIC
    what = f"B's owner: {method} {endpoint.name} at B's host with A's values"
    path = path_for(endpoint, a, URLCONF)
    if method == "GET" and not public:
        # A's owner has just opened the same URL: nothing A saw may be served to B from a cache.
        assert_no_server_error(a.client(session=True).get(path), f"A's owner: GET {endpoint.name}")
    with Unchanged(a.schema, what=what, enabled=method != "GET"):
        response = send(b.client(session=True), method, path, payload(sides))
    assert_no_server_error(response, what)
    # A public write may answer the same for any token (releasing a hold is idempotent: 204); the
    # unchanged tables of A are what counts there.
    if names_an_object(endpoint) and (not public or method == "GET"):
        assert_refused(response, what)
    assert_absent(response, a.anything + a.confidential, what)


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_b_api_token_at_a_host(sides, endpoint, method):
    a, b, public = sides.a, sides.b, endpoint.name in PUBLIC
    what = f"B's API token: {method} {endpoint.name} at A's host"
    path = path_for(endpoint, b if public else a, URLCONF)
    with Unchanged(a.schema, b.schema, what=what, enabled=method != "GET"):
        response = send(b.client(token=True, host=a.host), method, path, payload(sides))
    assert_no_server_error(response, what)
    if not public and path.startswith("/api/"):
        assert response.status_code in {401, 403, 405}, (what, response.status_code)
    elif not public:
        assert_login_required(response, what)
    assert_absent(response, a.confidential + b.anything, what)


def test_media_paths_cannot_climb_into_another_business(sides):
    a, b = sides.a, sides.b
    for path in (
        f"/media/{b.schema}/../{a.schema}/{a.media_path}",
        f"/media/{b.schema}/%2e%2e/{a.schema}/{a.media_path}",
        f"/media/{b.schema}/..%2f{a.schema}/{a.media_path}",
    ):
        response = b.client().get(path)
        assert response.status_code in {400, 404}, (path, response.status_code)
        assert_absent(response, [a.mark("Datei")], path)
    assert a.mark("Datei") in b"".join(a.client().get(f"/media/{a.schema}/{a.media_path}")).decode()
