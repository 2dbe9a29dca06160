import pytest
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

YEAR = 365 * 24 * 60 * 60


def log_in(business, username=None, password=None, client=None):
    client = client or client_for(business.host)
    response = client.post(
        "/login/",
        {"username": username or business.owner_username, "password": password or business.password},
    )
    return client, response


def test_login_page_needs_no_session(business_a):
    response = client_for(business_a.host).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_owner_logs_in_and_sees_the_dashboard(business_a):
    client, response = log_in(business_a)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert home.status_code == 200
    assert b"Appointments today" in home.content
    assert business_a.tenant.name.encode() in home.content


def test_session_cookie_ends_with_the_browser_session(business_a):
    _client, response = log_in(business_a)
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["expires"] == "" and session["max-age"] == ""
    assert session["httponly"]


def test_username_cookie_is_kept_one_year_and_prefills_the_form(business_a):
    client, response = log_in(business_a)
    cookie = response.cookies["username"]
    assert cookie.value == business_a.owner_username
    assert int(cookie["max-age"]) == YEAR
    client.post("/logout/")
    page = client.get("/login/")
    assert f'value="{business_a.owner_username}"'.encode() in page.content


def test_wrong_password_is_refused_with_a_clear_message(business_a):
    client = client_for(business_a.host, language="en")
    _client, response = log_in(business_a, password="wrong-password-1", client=client)
    assert response.status_code == 200
    assert "correct" in response.content.decode()
    assert "username" not in response.cookies


def test_logout_ends_the_session(business_a):
    client, _ = log_in(business_a)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_user_of_a_cannot_log_in_at_b(business_a, business_b):
    _client, response = log_in(business_b, username=business_a.owner_username, password=business_a.password)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_session_of_a_is_worthless_at_b(business_a, business_b):
    client_a, _ = log_in(business_a)
    session_key = client_a.cookies[settings.SESSION_COOKIE_NAME].value
    client_b = client_for(business_b.host)
    client_b.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client_b.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_logged_in_user_is_sent_home_from_the_login_page(business_a):
    client, _ = log_in(business_a)
    assert client.get("/login/")["Location"] == "/"
