"""/staff/traffic/: platform staff only (password and TOTP), page views per day and the top lists."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from termino.platform.accesslog.models import AccessLogEntry
from termino.platform.accesslog.selectors import traffic_summary
from tests.conftest import client_for, password_hash
from tests.platform.staffadmin.conftest import make_staff, sign_in

pytestmark = pytest.mark.django_db

URL = "/staff/traffic/"
FIREFOX = "Firefox"


def entry(at, *, schema="t_alpha_salon", host="alpha-salon.localhost", **fields) -> AccessLogEntry:
    values = {
        "at": at,
        "utc_offset_minutes": 60,
        "host": host,
        "schema": schema,
        "method": "GET",
        "path": "/book/",
        "status": 200,
        "visitor": "0123456789abcdef",
        "browser": FIREFOX,
        "os": "Linux",
        "language": "de",
    }
    values.update(fields)
    return AccessLogEntry.objects.create(**values)


@pytest.fixture
def traffic(business_a, business_b):
    now = timezone.now()
    for visitor in ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"):
        entry(now, visitor=visitor, referrer="https://www.instagram.com/alphasalon")
    entry(now, path="/book/", referrer="http://alpha-salon.localhost/")  # own site: not a referrer
    entry(now - timedelta(days=1), schema=business_b.schema, host=business_b.host, path="/", language="en")
    entry(now, method="POST")  # not a page view
    entry(now, status=404, path="/missing/")  # not a page view, but a response
    entry(now, path="/api/public/v1/slots/")  # the widget's API: not a page view
    entry(now - timedelta(days=20))  # outside the 14 days
    return now


def test_anonymous_is_sent_to_the_staff_login():
    response = client_for("localhost").get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/") and "next=/staff/traffic/" in response["Location"]


def test_a_signed_in_user_who_is_not_staff_is_refused():
    user = get_user_model().objects.create(username="someone@example.com", password=password_hash())
    client = client_for("localhost", "en")
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_staff_without_the_second_factor_is_sent_to_the_login():
    client = client_for("localhost", "en")
    client.force_login(make_staff())
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")


def test_a_business_host_has_no_traffic_page(business_a):
    owner = client_for(business_a.host)
    assert owner.get(URL).status_code in (302, 404)
    assert b"Page views per day" not in owner.get(URL, follow=True).content


def test_staff_see_page_views_and_top_lists(traffic):
    client = sign_in(make_staff())
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Page views in total: 5" in page
    assert "alpha-salon.localhost/book/" in page
    assert "https://www.instagram.com/alphasalon" in page and "http://alpha-salon.localhost/" not in page
    assert FIREFOX in page and "Linux" in page
    assert "/api/public/v1/slots/" not in page and "/missing/" not in page
    assert "4xx" in page  # the 404 among the responses


def test_staff_filter_by_site(traffic, business_b):
    client = sign_in(make_staff())
    page = client.get(URL, {"site": business_b.schema}).content.decode()
    assert "Page views in total: 1" in page
    unknown = client.get(URL, {"site": "t_nobody"}).content.decode()
    assert "Page views in total: 5" in unknown


def test_the_summary_counts_per_day_and_visitors(traffic, business_a):
    summary = traffic_summary(days=14, site=business_a.schema, now=traffic)
    assert len(summary.days) == 14
    today = summary.days[-1]
    assert (today.views, today.visitors, today.width) == (4, 3, 100)
    assert summary.total_views == 4
    assert [(bar.label, bar.count) for bar in summary.referrers] == [
        ("https://www.instagram.com/alphasalon", 3)
    ]
    assert [(bar.label, bar.count) for bar in summary.languages] == [("de", 4)]
    assert {bar.label: bar.count for bar in summary.statuses} == {"2xx": 6, "4xx": 1}
