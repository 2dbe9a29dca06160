"""Sending one request of an attack and judging its answer; shared by the isolation tests."""

import json
from urllib.parse import urlencode, urlparse

import pytest

from . import urlwalk
from .policy import LOGS, PARAMS, SHARED_PARAMS
from .world import PASSWORD, Side, World, changed_tables, snapshot

LOGIN_PATH = "/login/"
# What "you may not" looks like: bad request (checked before the lookup), forbidden, not found, wrong
# method, gone.
REFUSED = {400, 403, 404, 405, 410}


def unknown_params(endpoint: urlwalk.Endpoint) -> list[str]:
    return [p.key for p in endpoint.params if p.key not in PARAMS]


def values_for(endpoint: urlwalk.Endpoint, side: Side) -> dict:
    unknown = unknown_params(endpoint)
    if unknown:
        pytest.fail(
            f"{endpoint.name} ({endpoint.route}) has URL parameter(s) {unknown} that the isolation suite does"
            " not know. Add each to PARAMS in tests/isolation/policy.py with how to get a business's value"
            " (and create such an object in tests/isolation/world.py), so this URL is attacked too."
        )
    return {p.key: PARAMS[p.key](side) for p in endpoint.params}


def names_an_object(endpoint: urlwalk.Endpoint) -> bool:
    """The URL points at one object of a business (not just at a page every business has)."""
    return any(p.key not in SHARED_PARAMS for p in endpoint.params)


def path_for(endpoint: urlwalk.Endpoint, side: Side, urlconf: str) -> str:
    path = endpoint.path(values_for(endpoint, side))
    urlwalk.check_resolves(endpoint, path, urlconf)
    return path


def payload(world: World) -> dict:
    """Plausible form/JSON fields for a write: if a lookup wrongly succeeded, the write would go through.

    The login fields carry B's real credentials, tried at A's host.
    """
    return {
        "username": world.b.business.owner_username,
        "password": PASSWORD,
        "first_name": "Eindringling",
        "last_name": "Eindringling",
        "name": "Eindringling",
        "email": "eindringling@example.com",
        "text": "Eindringling war hier",
        "notes": "Eindringling war hier",
        "reason": "Eindringling",
        "tags": "eindringling",
        "status": "cancelled",
        "role": "manager",
        "active": "false",
        "duration_minutes": 45,
        "start": "2031-03-03T12:00:00+01:00",
        "end": "2031-03-03T13:00:00+01:00",
    }


def send(client, method: str, path: str, data: dict | None = None):
    if method == "GET":
        return client.get(path)
    data = data or {}
    if path.startswith("/api/"):
        return client.generic(method, path, json.dumps(data), content_type="application/json")
    return client.generic(
        method, path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def text_of(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + content.decode("utf-8", "replace")


def assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{text_of(response)[:1500]}"


def assert_absent(response, texts: list[str], what: str) -> None:
    body = text_of(response)
    found = [t for t in texts if t and t in body]
    assert not found, f"{what}: the response shows {found}"


def assert_login_required(response, what: str) -> None:
    status = response.status_code
    if status == 302:
        target = urlparse(response["Location"])
        assert target.path == LOGIN_PATH and not target.netloc, f"{what}: redirects to {response['Location']}"
    else:
        assert status in {401, 403, 404, 405}, (
            f"{what}: {status} instead of a login\n{text_of(response)[:800]}"
        )


def assert_refused(response, what: str) -> None:
    assert response.status_code in REFUSED, (
        f"{what}: {response.status_code}, expected one of {sorted(REFUSED)}\n{text_of(response)[:800]}"
    )


class Unchanged:
    """`with Unchanged(schema, ...)`: every table of each schema has the same rows afterwards."""

    def __init__(self, *schemas: str, what: str, enabled: bool = True):
        self.schemas, self.what, self.enabled = schemas, what, enabled

    def __enter__(self):
        self.before = {s: snapshot(s) for s in self.schemas} if self.enabled else {}
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None or not self.enabled:
            return False
        for schema in self.schemas:
            before, after = self.before[schema], snapshot(schema)
            changed = [
                t
                for t in changed_tables(before, after)
                if not (t in LOGS and t in before and t in after and after[t][0] >= before[t][0])
            ]
            assert not changed, f"{self.what}: tables of {schema} changed: {changed}"
        return False
