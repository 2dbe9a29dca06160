"""Every URL of the platform itself (public URLconf, at BASE_DOMAIN), generated from the URLconf.

Each pattern is reachable only as intended: without a platform staff login only the URLs in PUBLIC answer
(a business's session means nothing here), and none of them is reachable at a business's host, just as no
URL of a business is reachable at the platform's host.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve

from . import urlwalk
from .attacks import Unchanged, assert_absent, assert_no_server_error, payload, send, text_of
from .world import Side

pytestmark = pytest.mark.django_db

URLCONF = settings.PUBLIC_SCHEMA_URLCONF
ENDPOINTS = urlwalk.endpoints(URLCONF)
CASES = [pytest.param(e, m, id=f"{m} {e.route}") for e in ENDPOINTS for m in e.methods]

# How to fill the platform's URL parameters: with business A's tenant row where a business is meant.
PARAMS = {
    "businesses/<pk>": lambda a: a.business.tenant.pk,
    "impersonations/<grant_pk>": lambda a: 1,
    "lox24/<secret>": lambda a: "not-the-secret",
    "version/<number>": lambda a: 1,  # a published version of the privacy notice
    "subprocessors/<pk>": lambda a: 1,
    "*/<object_id>": lambda a: a.business.tenant.pk,  # the admin's change pages
    "r/<content_type_id>": lambda a: 1,
    "totpdevice/<pk>": lambda a: 1,
    "admin/<app_label>": lambda a: "tenancy",
    "admin/<url>": lambda a: "no-such-page/",
    # A business's password-reset link, tried on the platform's reset page.
    "reset/<uidb64>": lambda a: a.reset_uid,
    "reset/<token>": lambda a: a.reset_token,
}

PUBLIC = {
    "tenancy:landing": "the product's home page",
    "tenancy:signup": "a new business signs up",
    "impressum": "legal notice",
    "privacy": "privacy policy",
    "privacy_version": "an earlier (or the current) version of the privacy policy",
    "privacy_pdf": "a version of the privacy policy as PDF",
    "terms": "terms of service",
    "cookies": "the cookie list the privacy policy promises",
    "set_language": "switching the language needs no login",
    "admin:login": "the Django admin's login form",
    "admin:logout": "logging out needs no login",
    "admin:jsi18n": "the admin's JavaScript translation catalogue (no data)",
    "staffadmin:login": "platform staff log in (password, then a TOTP code)",
    "staffadmin:verify": "second login step; without a first step it sends back to the login",
    "staffadmin:enrol": "first login of a staff member sets up the TOTP code",
    "staffadmin:logout": "logging out needs no login",
    "staffadmin:password_reset": "platform staff ask for a password-reset link",
    "staffadmin:password_reset_sent": "says the e-mail with the link is on its way",
    "staffadmin:password_reset_confirm": "the e-mailed link: its token is the credential (TOTP follows)",
    "lox24-delivery": "LOX24's delivery reports: the secret in the URL is the credential",
    "platform_billing:webhook": "Stripe's webhook: the signature of the body is the credential",
    "platform_billing:connect-webhook": "Stripe's webhook of connected accounts: the body's signature",
}
LOGIN_PATHS = {"/admin/login/", "/staff/login/"}


def values_for(endpoint: urlwalk.Endpoint, a: Side) -> dict:
    values = {}
    for p in endpoint.params:
        fill = PARAMS.get(p.key) or PARAMS.get(f"*/<{p.name}>")
        if fill is None:
            pytest.fail(f"{endpoint.name} ({endpoint.route}): add {p.key!r} to PARAMS in {__file__}")
        values[p.key] = fill(a)
    return values


def platform_client(**extra) -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN, HTTP_ACCEPT_LANGUAGE="en", **extra)


def test_the_walk_finds_the_platform_urls():
    names = {e.name for e in ENDPOINTS}
    assert {"tenancy:signup", "admin:index", "staffadmin:businesses", "platform_billing:webhook"} <= names
    assert not set(PUBLIC) - names, f"PUBLIC names URLs that are gone: {sorted(set(PUBLIC) - names)}"


def assert_staff_login_required(response, what: str) -> None:
    if response.status_code == 302:
        assert response["Location"].split("?")[0] in LOGIN_PATHS, (what, response["Location"])
    else:
        assert response.status_code in {401, 403, 404, 405}, (what, response.status_code)


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_anonymous_and_business_logins_at_the_platform(sides, endpoint, method):
    """Without a platform staff login only the public pages answer; B's session and token mean nothing."""
    a, b = sides.a, sides.b
    path = endpoint.path(values_for(endpoint, a))
    urlwalk.check_resolves(endpoint, path, URLCONF)
    visitors = {
        "anonymous": platform_client(),
        "B's session": platform_client(),
        "B's API token": platform_client(HTTP_AUTHORIZATION=f"Token {b.api_token}"),
    }
    visitors["B's session"].cookies[settings.SESSION_COOKIE_NAME] = b.session_cookie
    # Public writes (signup, webhooks) may change the platform; never a business.
    with Unchanged(a.schema, b.schema, what=f"{method} {endpoint.route}", enabled=method != "GET"):
        for who, client in visitors.items():
            what = f"{who}: {method} {endpoint.route} at the platform"
            response = send(client, method, path, payload(sides))
            assert_no_server_error(response, what)
            if endpoint.name not in PUBLIC:
                assert_staff_login_required(response, what)
            assert_absent(response, a.confidential + b.confidential, what)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.route)
def test_platform_urls_are_not_reachable_at_a_business_host(sides, endpoint):
    a = sides.a
    path = endpoint.path(values_for(endpoint, a))
    try:
        own = resolve(path, urlconf=settings.ROOT_URLCONF)
    except Resolver404:
        own = None
    if own is not None:
        # Both sides have a page here (/, /cookies/, /i18n/setlang/): a business host serves its own.
        response = a.client(session=True).get(path)
        assert response.resolver_match is not None and response.resolver_match.route == own.route, path
        return
    for method in endpoint.methods:
        response = send(a.client(session=True), method, path, {})
        assert response.status_code == 404, (method, path, response.status_code, text_of(response)[:300])


def test_business_urls_are_not_reachable_at_the_platform_host(sides):
    from .test_tenant_urls import ENDPOINTS as TENANT_ENDPOINTS
    from .test_tenant_urls import path_for

    for endpoint in TENANT_ENDPOINTS:
        path = path_for(endpoint, sides.a, settings.ROOT_URLCONF)
        try:
            resolve(path, urlconf=URLCONF)
            continue  # the platform has its own page here (/, /i18n/, /cookies/): tested above
        except Resolver404:
            pass
        response = platform_client().get(path)
        assert response.status_code == 404, (endpoint.name, path, response.status_code)
