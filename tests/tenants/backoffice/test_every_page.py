"""Every backoffice URL, generated from the URLconf: nobody gets in without a login of this business.

The walk is the isolation suite's (tests/isolation/urlwalk.py), which attacks every URL of a business with
real objects of another; here the backoffice's own promise, with sample values and nothing to set up.
"""

import pytest

from tests.conftest import client_for
from tests.isolation import urlwalk
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db

PUBLIC = {"team:accept"}  # the invitation link: its token is the credential
SAMPLE = {
    "pk": "1",
    "note_pk": "1",
    "payment_id": "1",
    "delivery_pk": "1",
    "token": "x" * 20,
    "kind": "reminder",
    "channel": "sms",
}
PAGES = urlwalk.endpoints("termino.urls_tenant", under_module="termino.tenants.backoffice.urls")


def sample_path(endpoint: urlwalk.Endpoint) -> str:
    return endpoint.path({p.key: SAMPLE[p.name] for p in endpoint.params})


def test_the_walk_finds_every_area():
    names = {e.name.split(":")[0] for e in PAGES}
    assert names >= {"calendar", "customers", "settings", "team", "account"}
    assert len(PAGES) > 40


@pytest.mark.parametrize("endpoint", [e for e in PAGES if e.name not in PUBLIC], ids=str)
def test_anonymous_and_other_businesses_are_sent_to_the_login(business_a, business_b, endpoint):
    path = sample_path(endpoint)
    anonymous = client_for(business_a.host)
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    for client in (anonymous, stolen):
        for method in ("GET", "POST"):
            response = client.generic(method, path)
            if response.status_code == 405:  # the method is refused before anything else happens
                continue
            assert response.status_code == 302, (endpoint.name, method, response.status_code)
            assert response["Location"].startswith("/login/")
