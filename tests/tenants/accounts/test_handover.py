"""The one-time pass from signup into the new business's backoffice (accounts/handover.py)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.accounts.handover import handover_issue
from termino.tenants.accounts.models import SignInHandover
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

User = get_user_model()


def issue_for_owner(business) -> str:
    with schema_context(business.schema):
        return handover_issue(user=User.objects.get(role="owner"))


def test_the_pass_logs_the_owner_in_once(business_a):
    token = issue_for_owner(business_a)
    with schema_context(business_a.schema):
        (row,) = SignInHandover.objects.all()
        assert token not in row.token_hash  # only a keyed hash is kept
    first = client_for(business_a.host)
    landed = first.get(f"/welcome/{token}/")
    assert landed.status_code == 302 and landed["Location"] == "/"
    assert first.get("/").context["user"].username == business_a.owner_username

    # Replayed in another browser: refused, nobody logged in, and the page says why.
    second = client_for(business_a.host, "en")
    replay = second.get(f"/welcome/{token}/")
    assert replay.status_code == 410 and "expired or was used already" in replay.content.decode()
    assert not replay.context["user"].is_authenticated and "sessionid" not in replay.cookies
    with schema_context(business_a.schema):
        assert not SignInHandover.objects.exists()


def test_the_pass_expires_after_a_minute(business_a):
    token = issue_for_owner(business_a)
    later = timeutils.shift(timeutils.now(), SignInHandover.VALID_FOR + timedelta(seconds=1))
    with time_machine.travel(later, tick=False):
        client = client_for(business_a.host)
        response = client.get(f"/welcome/{token}/")
        assert response.status_code == 410
        assert "_auth_user_id" not in client.session


def test_just_in_time_still_works(business_a):
    token = issue_for_owner(business_a)
    almost = timeutils.shift(timeutils.now(), SignInHandover.VALID_FOR - timedelta(seconds=2))
    with time_machine.travel(almost, tick=False):
        client = client_for(business_a.host)
        assert client.get(f"/welcome/{token}/")["Location"] == "/"
        assert "_auth_user_id" in client.session


def test_another_business_refuses_the_pass_and_it_stays_usable_at_its_own(business_a, business_b):
    token = issue_for_owner(business_a)
    at_b = client_for(business_b.host)
    assert at_b.get(f"/welcome/{token}/").status_code == 410
    assert "_auth_user_id" not in at_b.session
    at_a = client_for(business_a.host)
    assert at_a.get(f"/welcome/{token}/")["Location"] == "/"


def test_a_deactivated_login_gets_nothing_from_a_pass(business_a):
    with schema_context(business_a.schema):
        member = User.objects.create_user(username="gone@alpha.example", password="x" * 12, is_active=False)
        token = handover_issue(user=member)
    client = client_for(business_a.host)
    assert client.get(f"/welcome/{token}/").status_code == 410


def test_only_a_get_redeems(business_a):
    token = issue_for_owner(business_a)
    assert client_for(business_a.host).post(f"/welcome/{token}/").status_code == 405
    assert client_for(business_a.host).get(f"/welcome/{token}/")["Location"] == "/"


def test_garbage_tokens_are_refused_plainly(business_a):
    client = client_for(business_a.host)
    for token in ("x", "a" * 101, "%00"):
        assert client.get(f"/welcome/{token}/").status_code in (400, 410)
