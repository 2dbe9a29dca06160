"""The People page (logins and calendar columns as one list): add, invite, resend/withdraw, edit, deactivate,
the invitee's accept page, and the old Team and Staff URLs."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Domain
from termino.tenants.accounts.models import Invitation, Role, User
from termino.tenants.scheduling.models import Resource, Service
from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sonnen-Uhr-Zeit-77"
ACCEPT_LINK = re.compile(r"(https?://[^/\s]+)/team/accept/([\w-]+)/")


@pytest.fixture(autouse=True)
def _room_for_a_team():
    """These tests invite several people: the session's businesses get the largest plan (rolled back with
    the test). The plan limit itself is tested on its own."""
    from termino.platform.billing.models import BillingAccount, Plan

    BillingAccount.objects.filter(tenant__slug__in=["alpha-salon", "beta-praxis"]).update(
        plan=Plan.objects.get(code="business")
    )


def invite_data(**overrides) -> dict:
    return {
        "email": "Lena@Example.com",
        "name": "Lena Fischer",
        "role": "staff",
        "in_calendar": "on",
    } | overrides


def invitations(business):
    with schema_context(business.schema):
        return list(Invitation.objects.order_by("pk"))


def link_in(mail) -> tuple[str, str]:
    match = ACCEPT_LINK.search(mail.body)
    assert match, mail.body
    return match.group(1), match.group(2)


def invited(business, mailoutbox, **overrides) -> str:
    """Invite someone as the owner; returns the token from the e-mail."""
    response = log_in_as(business).post("/people/new/", invite_data(**overrides))
    assert response.status_code == 302, re.findall(r"<li>(.*?)</li>", response.content.decode())
    return link_in(mailoutbox[-1])[1]


# --- Who may open the pages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/people/", "/people/new/", "/people/1/", "/people/columns/1/", "/team/", "/account/"],
    ids=["list", "add", "edit", "column", "old-team", "account"],
)
def test_staff_members_are_refused(business_a, path):
    assert log_in_as(business_a, "staff").get(path).status_code == 403


def test_anonymous_visitors_and_sessions_of_another_business_go_to_the_login(business_a, business_b):
    assert client_for(business_a.host).get("/people/")["Location"].startswith("/login/")
    client_b = log_in_as(business_b)
    stolen = client_for(business_a.host)
    stolen.cookies = client_b.cookies
    for path in ("/people/", "/people/new/", "/account/"):
        response = stolen.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = stolen.post("/people/new/", invite_data())
    assert response.status_code == 302 and not invitations(business_a)


# --- The list ----------------------------------------------------------------------------------------


def test_list_shows_members_and_open_invitations(business_a, mailoutbox):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    invited(business_a, mailoutbox, email="mia@example.com", name="Mia Wolf")
    page = log_in_as(business_a, "manager").get("/people/")
    assert page.status_code == 200
    html = page.content.decode()
    assert staff.email in html and "Chair 1" in html and business_a.owner_username in html
    assert "Mia Wolf" in html and "mia@example.com" in html
    assert "Invited" in html and "Send again" in html and "Withdraw" in html
    assert f'href="/people/{staff.pk}/"' in html  # managers edit staff members …
    with schema_context(business_a.schema):
        owner_pk = User.objects.get(role=Role.OWNER).pk
    assert f'href="/people/{owner_pk}/"' not in html  # … but not the owner


# --- Inviting ----------------------------------------------------------------------------------------


def test_owner_invites_a_staff_member(business_a, mailoutbox):
    client = log_in_as(business_a)
    page = client.get("/people/new/")
    assert page.status_code == 200 and 'value="manager"' in page.content.decode()
    response = client.post("/people/new/", invite_data())
    assert response.status_code == 302 and response["Location"] == "/people/"
    (invitation,) = invitations(business_a)
    assert (invitation.email, invitation.role, invitation.resource.name) == (
        "lena@example.com",
        "staff",
        "Lena Fischer",
    )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["lena@example.com"]
    assert "lena@example.com" in client.get("/people/").content.decode()


def test_the_link_uses_the_primary_domain_whatever_host_the_request_came_with(business_a, mailoutbox):
    Domain.objects.create(domain="termine.alpha-salon.example", tenant=business_a.tenant, is_primary=False)
    client = client_for("termine.alpha-salon.example", "en")
    assert (
        client.post("/login/", {"username": business_a.owner_username, "password": PASSWORD}).status_code
        == 302
    )
    response = client.post("/people/new/", invite_data(), HTTP_X_FORWARDED_HOST="evil.example")
    assert response.status_code == 302
    origin, token = link_in(mailoutbox[0])
    assert origin == f"http://{business_a.host}:8000"
    assert "termine.alpha-salon.example" not in mailoutbox[0].body and "evil" not in mailoutbox[0].body
    assert Invitation.hash_token(token) == invitations(business_a)[0].token_hash


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"name": ""}, "This field is required."),
        ({"role": "owner"}, "Select a valid choice."),
        ({"role": "staff", "in_calendar": ""}, "A staff member works in their own calendar column."),
        ({"email": "", "in_calendar": ""}, "Give an e-mail address for a login"),
        ({"services": "999999"}, "Select a valid choice."),
    ],
    ids=["email", "name", "owner-role", "staff-without-column", "neither", "unknown-service"],
)
def test_invalid_invitations_are_explained_and_nothing_is_stored(business_a, mailoutbox, overrides, message):
    response = log_in_as(business_a).post("/people/new/", invite_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not invitations(business_a) and not mailoutbox
    with schema_context(business_a.schema):
        assert not Resource.objects.filter(name="Lena Fischer").exists()


def test_an_existing_login_cannot_be_invited(business_a, mailoutbox):
    response = log_in_as(business_a).post(
        "/people/new/", invite_data(email=business_a.owner_username.upper())
    )
    assert response.status_code == 400
    assert "A member of your team already uses this e-mail address." in response.content.decode()
    assert not invitations(business_a) and not mailoutbox
    with schema_context(business_a.schema):  # the column made with it is gone too
        assert not Resource.objects.filter(name="Lena Fischer").exists()


def test_a_manager_invites_staff_but_not_managers(business_a, mailoutbox):
    client = log_in_as(business_a, "manager")
    assert 'value="manager"' not in client.get("/people/new/").content.decode()
    assert client.post("/people/new/", invite_data(role="manager")).status_code == 400
    assert not invitations(business_a)
    assert client.post("/people/new/", invite_data()).status_code == 302
    assert [i.role for i in invitations(business_a)] == ["staff"]


def test_a_person_without_login_is_bookable_and_can_be_invited_later(business_a, mailoutbox):
    with schema_context(business_a.schema):
        cut = Service.objects.create(name="Schnitt", duration_minutes=30)
    client = log_in_as(business_a)
    response = client.post(
        "/people/new/", {"name": "Chair 7", "email": "", "in_calendar": "on", "services": [cut.pk]}
    )
    assert response.status_code == 302 and not mailoutbox
    with schema_context(business_a.schema):
        column = Resource.objects.get(name="Chair 7")
        assert (column.kind, column.user_id, column.active) == ("staff", None, True)
        assert list(column.services.all()) == [cut]
    html = client.get("/people/").content.decode()
    assert f'href="/people/columns/{column.pk}/"' in html and "No login" in html
    # Later the person gets a login for the same column.
    response = client.post(
        f"/people/columns/{column.pk}/",
        {"name": "Chair 7", "in_calendar": "on", "services": [cut.pk], "email": "Lena@example.com"},
    )
    assert response.status_code == 302
    assert invitations(business_a)[0].resource_id == column.pk
    assert "already" not in client.get(f"/people/columns/{column.pk}/").content.decode()
    token = link_in(mailoutbox[-1])[1]
    client_for(business_a.host).post(f"/team/accept/{token}/", accept_data())
    with schema_context(business_a.schema):
        assert Resource.objects.get(pk=column.pk).user.username == "lena@example.com"


# --- Resend and withdraw -----------------------------------------------------------------------------


def test_resend_and_withdraw(business_a, mailoutbox):
    first = invited(business_a, mailoutbox)
    client = log_in_as(business_a)
    pk = invitations(business_a)[0].pk
    assert client.get(f"/team/invitations/{pk}/resend/").status_code == 405
    assert client.post(f"/team/invitations/{pk}/resend/").status_code == 302
    second = link_in(mailoutbox[-1])[1]
    assert second != first
    assert client_for(business_a.host).get(f"/team/accept/{first}/").status_code == 404
    assert client.post(f"/team/invitations/{pk}/revoke/").status_code == 302
    assert not invitations(business_a)
    assert client_for(business_a.host).get(f"/team/accept/{second}/").status_code == 404


def test_staff_and_other_businesses_cannot_touch_invitations(business_a, business_b, mailoutbox):
    invited(business_a, mailoutbox, role="manager", in_calendar="")
    pk = invitations(business_a)[0].pk
    for client in (log_in_as(business_a, "staff"), log_in_as(business_a, "manager")):
        assert client.post(f"/team/invitations/{pk}/revoke/").status_code == 403
        assert client.post(f"/team/invitations/{pk}/resend/").status_code == 403
    owner_b = log_in_as(business_b)
    assert owner_b.post(f"/team/invitations/{pk}/revoke/").status_code == 404
    assert owner_b.post(f"/team/invitations/{pk}/resend/").status_code == 404
    assert len(invitations(business_a)) == 1 and len(mailoutbox) == 1


# --- Editing -----------------------------------------------------------------------------------------


def edit_data(**overrides) -> dict:
    return {"name": "Tom Tailor", "role": "staff", "in_calendar": "on", "is_active": "on"} | overrides


def test_owner_edits_a_staff_member(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    client = log_in_as(business_a)
    page = client.get(f"/people/{staff.pk}/")
    assert page.status_code == 200 and "Chair 1" in page.content.decode()
    with schema_context(business_a.schema):
        column = Resource.objects.get(user=staff)
    response = client.post(f"/people/{staff.pk}/", edit_data(role="manager"))
    assert response.status_code == 302
    with schema_context(business_a.schema):
        staff.refresh_from_db()
        assert (staff.get_full_name(), staff.role) == ("Tom Tailor", "manager")
        assert Resource.objects.get(user=staff) == column


def test_invalid_edit_changes_nothing(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    client = log_in_as(business_a)
    for data in (edit_data(name=""), edit_data(role="owner"), edit_data(in_calendar="")):
        assert client.post(f"/people/{staff.pk}/", data).status_code == 400
    with schema_context(business_a.schema):
        staff.refresh_from_db()
        assert (staff.first_name, staff.role, staff.is_active) == ("Staff", "staff", True)
        assert Resource.objects.get(user=staff).active


def test_the_owner_edits_themselves_without_role_or_access(business_a):
    client = log_in_as(business_a)
    with schema_context(business_a.schema):
        owner = User.objects.get(role=Role.OWNER)
    html = client.get(f"/people/{owner.pk}/").content.decode()
    assert 'name="role"' not in html and 'name="is_active"' not in html
    # A forged role or deactivation is ignored: the owner stays the active owner.
    response = client.post(f"/people/{owner.pk}/", {"name": "Erika Muster", "role": "staff"})
    assert response.status_code == 302
    with schema_context(business_a.schema):
        owner.refresh_from_db()
        assert (owner.role, owner.is_active, owner.last_name) == ("owner", True, "Muster")


def test_managers_cannot_edit_the_owner_or_other_managers(business_a):
    other = make_user(business_a, "manager")
    with schema_context(business_a.schema):
        owner = User.objects.get(role=Role.OWNER)
    client = log_in_as(business_a, "manager")
    for member in (owner, other):
        assert client.get(f"/people/{member.pk}/").status_code == 403
        assert client.post(f"/people/{member.pk}/", edit_data(in_calendar="")).status_code == 403
        assert client.post(f"/people/{member.pk}/deactivate/").status_code == 403
    with schema_context(business_a.schema):
        assert User.objects.get(pk=owner.pk).role == "owner"
        assert User.objects.get(pk=other.pk).first_name == "Manager"


def test_a_user_of_a_is_not_found_at_b(business_a, business_b):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    client_b = log_in_as(business_b)
    with schema_context(business_a.schema):
        column = Resource.objects.create(kind="staff", name="Only At A")
    response = client_b.get(f"/people/{staff.pk}/")
    assert response.status_code in (403, 404) or staff.username not in response.content.decode()
    client_b.post(f"/people/{staff.pk}/", edit_data(name="Hijacked", in_calendar=""))
    client_b.post(f"/people/{staff.pk}/deactivate/")
    assert client_b.get(f"/people/columns/{column.pk}/").status_code == 404
    assert client_b.post(f"/people/columns/{column.pk}/deactivate/").status_code == 404
    assert "Only At A" not in client_b.get("/people/").content.decode()
    with schema_context(business_a.schema):
        assert User.objects.get(pk=staff.pk).first_name == "Staff"
        assert User.objects.get(pk=staff.pk).is_active and Resource.objects.get(pk=column.pk).active
    assert client_b.get("/people/999999/").status_code == 404


def test_deactivated_member_is_logged_out_and_cannot_log_in(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    staff_client = log_in_as(business_a, user=staff)
    assert staff_client.get("/").status_code == 200
    response = log_in_as(business_a).post(
        f"/people/{staff.pk}/", edit_data(name="Staff Member", is_active="")
    )
    assert response.status_code == 302
    with schema_context(business_a.schema):
        assert not User.objects.get(pk=staff.pk).is_active
        sessions = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
        assert str(staff.pk) not in sessions
    assert staff_client.get("/")["Location"].startswith("/login/")
    again = client_for(business_a.host, "en").post(
        "/login/", {"username": staff.username, "password": PASSWORD}
    )
    assert again.status_code == 200 and settings.SESSION_COOKIE_NAME not in again.cookies


# --- Accepting ---------------------------------------------------------------------------------------


def accept_data(**overrides) -> dict:
    return {"name": "Lena Fischer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD} | overrides


def test_invitee_sets_a_password_and_is_logged_in(business_a, mailoutbox):
    token = invited(business_a, mailoutbox)
    client = client_for(business_a.host, "en")
    page = client.get(f"/team/accept/{token}/")
    assert page.status_code == 200
    assert "lena@example.com" in page.content.decode() and "Alpha Salon" in page.content.decode()
    response = client.post(f"/team/accept/{token}/", accept_data(name="Lena M. Fischer"))
    assert response.status_code == 302
    assert response["Location"] in ("/calendar/", "/")
    assert response.cookies["username"].value == "lena@example.com"
    assert client.get("/").status_code == 200  # logged in
    with schema_context(business_a.schema):
        user = User.objects.get(username="lena@example.com")
        assert user.role == "staff" and user.get_full_name() == "Lena M. Fischer"
        assert Resource.objects.get(user=user).name == "Lena Fischer"
    # Used once: the link now says so.
    gone = client_for(business_a.host, "en").get(f"/team/accept/{token}/")
    assert gone.status_code == 410 and "expired or has been used already" in gone.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password2": "Something-else-99"}, "didn’t match"),
        ({"password1": "lenafischer1", "password2": "lenafischer1"}, "too similar"),
        ({"name": ""}, "This field is required."),
    ],
    ids=["short", "mismatch", "similar", "no-name"],
)
def test_bad_passwords_are_refused_and_nothing_is_made(business_a, mailoutbox, overrides, message):
    token = invited(business_a, mailoutbox)
    response = client_for(business_a.host, "en").post(f"/team/accept/{token}/", accept_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context(business_a.schema):
        assert not User.objects.filter(username="lena@example.com").exists()
        assert Invitation.objects.get().accepted_at is None


def test_unknown_expired_and_foreign_links_get_a_friendly_page(business_a, business_b, mailoutbox):
    token = invited(business_a, mailoutbox)
    unknown = client_for(business_a.host, "en").get("/team/accept/not-a-token/")
    assert unknown.status_code == 404 and "This invitation link is not valid" in unknown.content.decode()
    assert client_for(business_b.host).get(f"/team/accept/{token}/").status_code == 404
    assert client_for(business_b.host).post(f"/team/accept/{token}/", accept_data()).status_code == 404
    with schema_context(business_a.schema):
        past = timezone.now() - timedelta(days=8)
        Invitation.objects.update(created_at=past, expires_at=past + Invitation.VALID_FOR)
    expired = client_for(business_a.host, "de").post(f"/team/accept/{token}/", accept_data())
    assert expired.status_code == 410
    for business in (business_a, business_b):
        with schema_context(business.schema):
            assert not User.objects.filter(username="lena@example.com").exists()


# --- Deactivating, and the old addresses -------------------------------------------------------------


def test_deactivate_ends_the_login_and_takes_the_person_out_of_the_calendar(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    with schema_context(business_a.schema):
        column_only = Resource.objects.create(kind="staff", name="Aushilfe")
    client = log_in_as(business_a)
    assert client.get(f"/people/{staff.pk}/deactivate/").status_code == 405
    assert client.post(f"/people/{staff.pk}/deactivate/").status_code == 302
    assert client.post(f"/people/columns/{column_only.pk}/deactivate/").status_code == 302
    with schema_context(business_a.schema):
        assert not User.objects.get(pk=staff.pk).is_active
        assert not Resource.objects.get(user=staff).active
        assert not Resource.objects.get(pk=column_only.pk).active
    html = client.get("/people/").content.decode()
    assert html.count("Deactivated") >= 2


def test_the_owner_cannot_be_deactivated(business_a):
    with schema_context(business_a.schema):
        owner = User.objects.get(role=Role.OWNER)
    client = log_in_as(business_a)
    assert client.post(f"/people/{owner.pk}/deactivate/").status_code == 302
    with schema_context(business_a.schema):
        assert User.objects.get(pk=owner.pk).is_active


def test_old_team_and_staff_addresses_lead_to_people(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    client = log_in_as(business_a)
    assert client.get("/team/")["Location"] == "/people/"
    assert client.get("/team/invite/")["Location"] == "/people/new/"
    assert client.get(f"/team/{staff.pk}/")["Location"] == f"/people/{staff.pk}/"
    assert client.get("/settings/resources/")["Location"] == "/people/"


def test_a_person_with_login_and_column_is_one_row(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    html = log_in_as(business_a).get("/people/").content.decode()
    assert html.count(f'data-member="{staff.pk}"') == 1 and "data-column=" not in html
