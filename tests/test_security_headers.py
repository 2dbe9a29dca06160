"""Security headers on public, business and booking pages; CSRF on every form."""

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from termino.shared.security_headers import parse
from termino.tenants.business.models import BusinessSettings
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def csp(response) -> dict[str, str]:
    return parse(response["Content-Security-Policy"])


def assert_common_headers(response):
    policy = csp(response)
    assert policy["script-src"] == "'self'"  # no inline scripts anywhere
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/signup/", "/impressum/", "/cookies/", "/staff/login/"])
def test_platform_pages(path):
    response = client_for(settings.BASE_DOMAIN).get(path)
    assert response.status_code == 200
    assert_common_headers(response)
    assert csp(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/login/", "/cookies/"])
def test_business_pages(business_a, path):
    response = client_for(business_a.host).get(path)
    assert response.status_code == 200
    assert_common_headers(response)
    assert csp(response)["frame-ancestors"] == "'none'" and response["X-Frame-Options"] == "DENY"


def test_backoffice_pages(business_a):
    response = log_in_as(business_a, "owner").get("/calendar/")
    assert response.status_code == 200
    assert_common_headers(response)
    assert response["X-Frame-Options"] == "DENY"


def test_unknown_host_answers_with_the_headers_too():
    response = client_for("nobody-here.localhost").get("/")
    assert response.status_code == 404
    assert_common_headers(response)


def test_booking_page_keeps_its_frame_ancestors_and_gets_the_rest_of_the_policy(business_a):
    with schema_context(business_a.schema):
        BusinessSettings.objects.update_or_create(
            id=1, defaults={"allowed_origins": "https://www.salon.example"}
        )
    for path in ["/book/", "/book/?embed=1"]:
        response = client_for(business_a.host).get(path)
        assert response.status_code == 200
        assert_common_headers(response)
        assert csp(response)["frame-ancestors"] == "'self' https://www.salon.example"
        assert "X-Frame-Options" not in response


def test_swagger_ui_may_load_its_bundle(business_a):
    response = client_for(business_a.host).get("/api/docs/")
    assert "https://cdn.jsdelivr.net" in csp(response)["script-src"]
    assert "'unsafe-inline'" not in csp(response)["script-src"]


def test_the_templates_have_no_inline_scripts():
    """script-src 'self' blocks inline scripts and event handler attributes: none may be written."""
    import re
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "termino"
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=\"|javascript:", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        for match in inline.finditer(path.read_text())
        if 'type="application/json"' not in match.group(0)
    ]
    assert offenders == []


# --- HSTS and cookie flags as production sets them ---------------------------------------------------


def test_hsts_is_sent_over_https_when_configured(business_a):
    with override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        response = Client(HTTP_HOST=business_a.host).get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_hsts_in_development(business_a):
    assert settings.SECURE_HSTS_SECONDS == 0  # the test settings are development's
    assert "Strict-Transport-Security" not in Client(HTTP_HOST=business_a.host).get("/login/", secure=True)


def test_cookie_flags(business_a):
    with override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        client = client_for(business_a.host)
        page = client.get("/login/")
        csrf = page.cookies[settings.CSRF_COOKIE_NAME]
        response = client.post(
            "/login/", {"username": business_a.owner_username, "password": business_a.password}
        )
    assert csrf["httponly"] and csrf["secure"] and csrf["samesite"] == "Lax"
    assert csrf["max-age"] == "" and csrf["expires"] == ""  # ends with the browser session
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["secure"] and session["samesite"] == "Lax"
    assert session["max-age"] == "" and session["expires"] == ""
    username = response.cookies[settings.USERNAME_COOKIE_NAME]
    assert username["httponly"] and username["secure"] and username["samesite"] == "Lax"


def test_language_switcher_sets_a_session_cookie(business_a):
    response = client_for(business_a.host).post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and cookie["max-age"] == "" and cookie["expires"] == ""
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


# --- CSRF --------------------------------------------------------------------------------------------


def csrf_client(business, role="owner") -> Client:
    """A logged-in session in a client that checks CSRF tokens like a browser's requests are checked."""
    logged_in = log_in_as(business, role)
    client = Client(enforce_csrf_checks=True, HTTP_HOST=business.host)
    client.cookies[settings.SESSION_COOKIE_NAME] = logged_in.cookies[settings.SESSION_COOKIE_NAME].value
    return client


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/account/", {"owner_name": "X", "company_name": "Y"}),
        ("/account/password/", {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
        ("/customers/new/", {"last_name": "Forged"}),
        ("/people/new/", {"email": "forged@example.com", "name": "Forged", "role": "manager"}),
        ("/settings/booking/", {"cancel_cutoff_hours": "1"}),
        ("/logout/", {}),
    ],
)
def test_backoffice_forms_refuse_posts_without_a_csrf_token(business_a, path, data):
    client = csrf_client(business_a)
    assert client.get("/calendar/").status_code == 200  # the session itself is good
    assert client.post(path, data).status_code == 403


def test_login_and_signup_refuse_posts_without_a_csrf_token(business_a):
    login = Client(enforce_csrf_checks=True, HTTP_HOST=business_a.host)
    assert login.post("/login/", {"username": business_a.owner_username, "password": "x"}).status_code == 403
    signup = Client(enforce_csrf_checks=True, HTTP_HOST=settings.BASE_DOMAIN)
    assert signup.post("/signup/", {"slug": "forged"}).status_code == 403


def test_a_form_with_its_token_is_accepted(business_a):
    client = csrf_client(business_a)
    page = client.get("/customers/new/")
    token = page.context["csrf_token"]
    response = client.post("/customers/new/", {"csrfmiddlewaretoken": str(token), "last_name": "Echt"})
    assert response.status_code in (200, 302, 400)  # past the CSRF check, whatever the form says
