"""Every backoffice URL, generated from the URLconf: nobody gets in without a login of this business."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db

PUBLIC = {"team:accept"}  # the invitation link: its token is the credential
SAMPLE = {"pk": "1", "note_pk": "1", "token": "x" * 20, "kind": "reminder", "channel": "sms"}


def backoffice_paths() -> list[tuple[str, str]]:
    """(name, path) of every backoffice URL with sample values for its parameters."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE[m[1]], route)
                found.append((f"{namespace}:{pattern.name}", path))

    for top in get_resolver("termino.urls_tenant").url_patterns:
        module = getattr(top, "urlconf_name", None)
        if (
            isinstance(top, URLResolver)
            and getattr(module, "__name__", module) == "termino.tenants.backoffice.urls"
        ):
            walk(top.url_patterns, str(top.pattern), None)
    return found


PATHS = backoffice_paths()


def test_the_walk_finds_every_area():
    names = {name.split(":")[0] for name, _path in PATHS}
    assert names >= {"calendar", "customers", "settings", "team", "account"}
    assert len(PATHS) > 40


@pytest.mark.parametrize(
    ("name", "path"),
    [p for p in PATHS if p[0] not in PUBLIC],
    ids=[p[0] for p in PATHS if p[0] not in PUBLIC],
)
def test_anonymous_and_other_businesses_are_sent_to_the_login(business_a, business_b, name, path):
    anonymous = client_for(business_a.host)
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    for client in (anonymous, stolen):
        for method in (client.get, client.post):
            response = method(path)
            if response.status_code == 405:  # the method is refused before anything else happens
                continue
            assert response.status_code == 302, (name, method.__name__, response.status_code)
            assert response["Location"].startswith("/login/")
