"""The cookie page at /cookies/ on the platform's host and on every business's host."""

import pytest
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def rows(response) -> dict[str, tuple[str, str]]:
    return {cookie.name: (cookie.purpose, cookie.expiry) for cookie in response.context["cookies"]}


@pytest.mark.parametrize("host", ["platform", "business"])
def test_cookie_page_lists_every_cookie_with_purpose_and_expiry(business_a, host):
    client = client_for(settings.BASE_DOMAIN if host == "platform" else business_a.host, "en")
    response = client.get("/cookies/")
    assert response.status_code == 200
    listed = rows(response)
    assert list(listed) == ["sessionid", "csrftoken", "username", "django_language"]
    assert listed["sessionid"][1] == "When you close your browser"
    assert listed["csrftoken"][1] == "When you close your browser"
    assert listed["username"][1] == "1 year"
    assert listed["django_language"][1] == "When you close your browser"
    page = response.content.decode()
    for name in listed:
        assert f"<code>{name}</code>" in page
    assert "no cookies for statistics, advertising or tracking" in page


def test_cookie_page_is_linked_in_the_footer(business_a):
    for host in (settings.BASE_DOMAIN, business_a.host):
        assert (
            'href="/cookies/"'
            in client_for(host).get("/" if host == settings.BASE_DOMAIN else "/login/").content.decode()
        )


def test_the_cookies_browsers_receive_are_the_listed_ones(business_a):
    """Logging in sets exactly the listed cookies, the session one without an expiry."""
    client = client_for(business_a.host)
    received = dict(client.get("/login/").cookies)
    response = client.post(
        "/login/", {"username": business_a.owner_username, "password": business_a.password}
    )
    received.update(response.cookies)
    received.update(client.post("/i18n/setlang/", {"language": "en", "next": "/"}).cookies)
    assert set(received) == {"sessionid", "csrftoken", "username", "django_language"}
    session = response.cookies["sessionid"]
    assert session["expires"] == "" and session["max-age"] == ""
    assert int(response.cookies["username"]["max-age"]) == 365 * 24 * 60 * 60


def test_cookie_page_in_german(business_a):
    response = client_for(business_a.host, "de").get("/cookies/")
    assert response.status_code == 200 and '<html lang="de">' in response.content.decode()
