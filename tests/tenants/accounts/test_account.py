"""The owner's account page: registration data (validated as at signup), the login that follows the
e-mail address, the business summary, and the password change every role can make."""

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.tenants.accounts.models import Role, User
from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sonnen-Uhr-Zeit-77"


def account_data(**overrides) -> dict:
    return {
        "owner_name": "  Erika   Musterfrau ",
        "company_name": "Alpha Salon & Spa",
        "street": "Neue Straße 9",
        "postcode": "80331",
        "city": "München",
        "country": "DE",
        "phone": "089 1234567",
        "email": "Erika@Alpha-Salon.example",
    } | overrides


def tenant_row(business) -> Tenant:
    return Tenant.objects.get(pk=business.tenant.pk)


def owner_of(business) -> User:
    with schema_context(business.schema):
        return User.objects.get(role=Role.OWNER)


def test_owner_sees_details_and_summary(business_a):
    page = log_in_as(business_a).get("/account/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Erika Mustermann"' in html and 'value="+493012345678"' in html
    assert f"http://{business_a.host}:8000/book/" in html
    assert "Trial" in html
    assert 'href="/account/password/"' in html


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_the_owner_opens_the_account(business_a, role):
    client = log_in_as(business_a, role)
    assert client.get("/account/").status_code == 403
    assert client.post("/account/", account_data()).status_code == 403
    assert tenant_row(business_a).name == "Alpha Salon"


def test_saving_updates_the_business_and_the_owners_login(business_a):
    client = log_in_as(business_a)
    response = client.post("/account/", account_data())
    assert response.status_code == 302 and response["Location"] == "/account/"
    tenant = tenant_row(business_a)
    assert (tenant.owner_name, tenant.name, tenant.street) == (
        "Erika Musterfrau",
        "Alpha Salon & Spa",
        "Neue Straße 9",
    )
    assert (tenant.postcode, tenant.city, tenant.phone) == ("80331", "München", "+49891234567")
    assert tenant.email == "erika@alpha-salon.example"
    owner = owner_of(business_a)
    assert owner.username == owner.email == "erika@alpha-salon.example"
    assert owner.get_full_name() == "Erika Musterfrau"
    assert client.get("/").status_code == 200  # still logged in
    fresh = client_for(business_a.host)
    login = fresh.post("/login/", {"username": "erika@alpha-salon.example", "password": PASSWORD})
    assert login.status_code == 302


def test_an_email_used_by_a_team_member_is_refused(business_a):
    taken = make_user(business_a, "staff", username="jonas@alpha-salon.example")
    response = log_in_as(business_a).post("/account/", account_data(email=taken.username.upper()))
    assert response.status_code == 400
    assert "A member of your team already uses this e-mail address." in response.content.decode()
    assert tenant_row(business_a).name == "Alpha Salon"
    assert owner_of(business_a).username == business_a.owner_username


def test_a_different_login_name_stays_as_it_is(business_a):
    Tenant.objects.filter(pk=business_a.tenant.pk).update(email="office@alpha-salon.example")
    make_user(business_a, "staff", username="jonas@alpha-salon.example")
    # The owner logs in with another address, so theirs does not follow and a colleague's is no conflict.
    response = log_in_as(business_a).post("/account/", account_data(email="jonas@alpha-salon.example"))
    assert response.status_code == 302
    assert tenant_row(business_a).email == "jonas@alpha-salon.example"
    assert owner_of(business_a).username == business_a.owner_username


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"postcode": "1234"}, "5 digits"),
        ({"phone": "12"}, "valid phone number"),
        ({"email": "nope"}, "valid email"),
        ({"country": "XX"}, "valid choice"),
        ({"company_name": ""}, "required"),
    ],
    ids=["postcode", "phone", "email", "country", "company"],
)
def test_invalid_details_are_explained_and_nothing_is_stored(business_a, overrides, message):
    response = log_in_as(business_a).post("/account/", account_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant = tenant_row(business_a)
    assert (tenant.name, tenant.postcode, tenant.email) == ("Alpha Salon", "10115", business_a.owner_username)


def test_errors_are_german_for_german_owners(business_a):
    client = log_in_as(business_a, language="de")
    response = client.post("/account/", account_data(postcode="1234"), HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert response.status_code == 400 and "Eine Postleitzahl in diesem Land hat 5 Ziffern." in html


def test_austrian_details_follow_austrian_rules(business_a):
    data = account_data(country="AT", phone="0664 1234567", postcode="1010", city="Wien")
    assert log_in_as(business_a).post("/account/", data).status_code == 302
    tenant = tenant_row(business_a)
    assert (tenant.country, tenant.phone, tenant.postcode) == ("AT", "+436641234567", "1010")


def test_another_business_session_is_unknown_here(business_a, business_b):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b).cookies
    response = stolen.post("/account/", account_data())
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert tenant_row(business_a).name == "Alpha Salon"


# --- Password ----------------------------------------------------------------------------------------


def password_data(**overrides) -> dict:
    return {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    } | overrides


def test_password_change_keeps_this_session_and_ends_the_others(business_a):
    client, other_device = log_in_as(business_a), log_in_as(business_a)
    assert client.get("/account/password/").status_code == 200
    response = client.post("/account/password/", password_data())
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/")["Location"].startswith("/login/")
    with schema_context(business_a.schema):
        assert owner_of(business_a).check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"old_password": "wrong-password-1"}, "Your old password was entered incorrectly"),
        ({"new_password1": "short", "new_password2": "short"}, "too short"),
        ({"new_password2": "Something-else-99"}, "didn’t match"),
    ],
    ids=["wrong-current", "weak", "mismatch"],
)
def test_bad_password_changes_are_refused(business_a, overrides, message):
    client = log_in_as(business_a)
    response = client.post("/account/password/", password_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert owner_of(business_a).check_password(PASSWORD)


def test_every_role_changes_their_own_password(business_a):
    staff = make_user(business_a, "staff", staff_name="Chair 1")
    client = log_in_as(business_a, user=staff)
    assert client.post("/account/password/", password_data()).status_code == 302
    with schema_context(business_a.schema):
        assert User.objects.get(pk=staff.pk).check_password(NEW_PASSWORD)
    assert client_for(business_a.host).get("/account/password/").status_code == 302  # anonymous: log in
    assert settings.LOGIN_URL == "accounts:login"
