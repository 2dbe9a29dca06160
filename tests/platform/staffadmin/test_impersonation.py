"""Signing in as a business user: a one-time grant, redeemed at the business's own host, for a while."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.staffadmin import impersonation, services
from termino.platform.staffadmin.models import ImpersonationGrant, StaffAction
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import make_user

from .conftest import staff_client

pytestmark = pytest.mark.django_db


def owner_of(business):
    with schema_context(business.schema):
        return get_user_model().objects.get(username=business.owner_username)


def grant_link(client, business, user, reason="Support ticket 123: calendar looks wrong") -> str:
    """The staff admin's impersonate action; returns the link it sends the browser to."""
    response = client.post(
        f"/staff/businesses/{business.tenant.pk}/impersonate/", {"user": user.pk, "reason": reason}
    )
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def redeem(business, link: str):
    """Follow the link at the business's host; returns (client, response)."""
    client = client_for(business.host, "en")
    return client, client.get(urlsplit(link).path)


def test_end_to_end(staffed, business_a):
    staff, client = staffed
    owner = owner_of(business_a)
    last_login = owner.last_login

    link = grant_link(client, business_a, owner)
    parts = urlsplit(link)
    assert parts.netloc == f"{business_a.host}:8000" and parts.path.startswith("/staff-login/")
    grant = ImpersonationGrant.objects.get(tenant=business_a.tenant)
    assert grant.staff == staff and grant.target_user_id == owner.pk and grant.used_at is None
    token = parts.path.split("/")[2]
    assert grant.token_hash == ImpersonationGrant.hash_token(token) and token not in grant.token_hash

    business_client, response = redeem(business_a, link)
    assert response.status_code == 302 and response["Location"] == "/"
    assert business_client.get("/").status_code == 200  # the backoffice, as the owner
    with schema_context(business_a.schema):
        session = business_client.session
        assert session["impersonated_by"] == staff.username
        ends = session["impersonation_ends"]
        assert abs(ends - (time.time() + 30 * 60)) < 60
        assert session["_auth_user_id"] == str(owner.pk)

    banner = business_client.get("/__banner__/").content.decode()
    assert "Platform staff Petra Platt is signed in as Erika Mustermann until" in banner
    assert 'action="/staff-login/end/"' in banner

    grant.refresh_from_db()
    assert grant.used_at is not None and grant.ends_at > grant.used_at
    actions = list(
        StaffAction.objects.filter(tenant_id=business_a.tenant.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["impersonate", "impersonation_start"]
    start = StaffAction.objects.get(tenant_id=business_a.tenant.pk, action="impersonation_start")
    assert start.staff_id == staff.pk and start.reason == "Support ticket 123: calendar looks wrong"
    assert start.details["user_id"] == owner.pk
    # The user's own last login (what the business and the staff list see) is untouched.
    assert owner_of(business_a).last_login == last_login

    # Time is up: the next request signs out and goes back to the staff admin.
    with schema_context(business_a.schema):
        session = business_client.session
        session["impersonation_ends"] = int(time.time()) - 1
        session.save()
    response = business_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"http://localhost:8000/staff/businesses/{business_a.tenant.pk}/"
    response = business_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "Platform staff" not in business_client.get("/__banner__/").content.decode()
    end = StaffAction.objects.get(tenant_id=business_a.tenant.pk, action="impersonation_end")
    assert end.details["why"] == "expired" and end.staff_id == staff.pk
    grant.refresh_from_db()
    assert grant.ended_at is not None


def test_a_link_works_once(staffed, business_a):
    _staff, client = staffed
    link = grant_link(client, business_a, owner_of(business_a))
    _first, response = redeem(business_a, link)
    assert response.status_code == 302
    second, response = redeem(business_a, link)
    assert response.status_code == 410
    assert "has been used or has expired" in response.content.decode()
    assert second.get("/").status_code == 302  # still signed out
    assert (
        StaffAction.objects.filter(tenant_id=business_a.tenant.pk, action="impersonation_start").count() == 1
    )


def test_a_link_is_refused_at_another_business(staffed, business_a, business_b):
    _staff, client = staffed
    link = grant_link(client, business_a, owner_of(business_a))
    other, response = redeem(business_b, link)
    assert response.status_code == 404
    assert "not valid here" in response.content.decode()
    assert other.get("/").status_code == 302  # nobody signed in at B
    assert ImpersonationGrant.objects.get(tenant=business_a.tenant).used_at is None
    assert not StaffAction.objects.filter(action="impersonation_start").exists()


def test_unknown_and_expired_links(staffed, business_a):
    _staff, client = staffed
    _client, response = redeem(business_a, "/staff-login/not-a-real-token/")
    assert response.status_code == 404
    link = grant_link(client, business_a, owner_of(business_a))
    ImpersonationGrant.objects.filter(tenant=business_a.tenant).update(
        created_at=timezone.now() - timedelta(minutes=10), expires_at=timezone.now() - timedelta(seconds=1)
    )
    visitor, response = redeem(business_a, link)
    assert response.status_code == 410
    assert visitor.get("/").status_code == 302


def test_links_are_not_redeemed_on_the_platform_host(staffed, business_a):
    _staff, client = staffed
    link = grant_link(client, business_a, owner_of(business_a))
    assert staff_client().get(urlsplit(link).path).status_code == 404
    assert ImpersonationGrant.objects.get(tenant=business_a.tenant).used_at is None


def test_end_now(staffed, business_a):
    _staff, client = staffed
    manager = make_user(business_a, "manager")
    business_client, _response = redeem(business_a, grant_link(client, business_a, manager))
    assert business_client.get("/staff-login/end/").status_code == 405
    response = business_client.post("/staff-login/end/")
    assert response.status_code == 302
    assert response["Location"] == f"http://localhost:8000/staff/businesses/{business_a.tenant.pk}/"
    assert business_client.get("/").status_code == 302  # signed out
    end = StaffAction.objects.get(tenant_id=business_a.tenant.pk, action="impersonation_end")
    assert end.details == {
        "grant": end.details["grant"],
        "username": manager.username,
        "why": "ended by staff",
    }


def test_end_now_leaves_an_ordinary_session_alone(business_a):
    from tests.tenants.backoffice.helpers import log_in_as

    owner = log_in_as(business_a)
    assert owner.post("/staff-login/end/")["Location"] == "/"
    assert owner.get("/").status_code == 200


def test_ending_from_the_staff_admin_signs_out_at_the_business(staffed, business_a):
    _staff, client = staffed
    business_client, _response = redeem(business_a, grant_link(client, business_a, owner_of(business_a)))
    page = client.get(f"/staff/businesses/{business_a.tenant.pk}/").content.decode()
    assert "Sign-ins as user" in page and "running until" in page
    grant = ImpersonationGrant.objects.get(tenant=business_a.tenant)
    response = client.post(f"/staff/businesses/{business_a.tenant.pk}/impersonations/{grant.pk}/end/")
    assert response.status_code == 302
    response = business_client.get("/")
    assert response.status_code == 302 and "/staff/businesses/" in response["Location"]
    assert business_client.get("/").status_code == 302
    assert StaffAction.objects.filter(tenant_id=business_a.tenant.pk, action="impersonation_end").count() == 1


def test_impersonating_needs_an_active_user_of_that_business(staffed, business_a, business_b):
    _staff, client = staffed
    url = f"/staff/businesses/{business_a.tenant.pk}/impersonate/"
    stranger = make_user(business_b, "manager", username="only-at-b@beta.example")
    response = client.post(url, {"user": stranger.pk + 1000, "reason": "test"})
    assert response.status_code == 400
    inactive = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        get_user_model().objects.filter(pk=inactive.pk).update(is_active=False)
    response = client.post(url, {"user": inactive.pk, "reason": "test"})
    assert response.status_code == 400
    assert not ImpersonationGrant.objects.exists()
    assert not StaffAction.objects.filter(action="impersonate").exists()


def test_a_user_deactivated_after_the_grant_cannot_be_signed_in(staffed, business_a):
    _staff, client = staffed
    member = make_user(business_a, "staff")
    link = grant_link(client, business_a, member)
    with schema_context(business_a.schema):
        get_user_model().objects.filter(pk=member.pk).update(is_active=False)
    _visitor, response = redeem(business_a, link)
    assert response.status_code == 410


def test_redeeming_is_atomic(staffed, business_a):
    """Two redemptions of one token: the conditional update lets exactly one through."""
    staff, _client = staffed
    _grant, token = services.impersonation_grant_create(
        staff=staff, tenant=business_a.tenant, target_user_id=owner_of(business_a).pk, reason="race"
    )
    with schema_context(business_a.schema):
        services.impersonation_grant_redeem(token=token, tenant=business_a.tenant)
        with pytest.raises(services.GrantGone):
            services.impersonation_grant_redeem(token=token, tenant=business_a.tenant)
    with pytest.raises(services.GrantNotFound), schema_context(business_a.schema):
        services.impersonation_grant_redeem(token=token + "x", tenant=business_a.tenant)


def test_the_banner_is_silent_for_ordinary_sessions(business_a):
    from tests.tenants.backoffice.helpers import log_in_as

    assert log_in_as(business_a).get("/__banner__/").content.decode().strip() == ""
    assert impersonation.banner(None) is None
