"""embed.js asks /book/embed-check/ whether the website may frame the booking page, and shows a readable
notice (German or English) instead of the browser's grey broken box when it may not."""

import json
import re

import pytest
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def allow(business, origins: str) -> None:
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"allowed_origins": origins})


def check(business, origin: str):
    return client_for(business.host).get("/book/embed-check/", {"origin": origin}, HTTP_ORIGIN=origin)


def test_listed_origins_and_the_business_itself_are_allowed_others_not(business_a):
    allow(business_a, "https://www.salon.example")
    assert check(business_a, "https://www.salon.example").json() == {"allowed": True}
    assert check(business_a, "https://www.salon.example/").json() == {"allowed": True}
    assert check(business_a, f"http://{business_a.host}:8000").json() == {"allowed": True}
    for origin in ("https://salon.example", "http://www.salon.example", "null", "", "x" * 5000):
        assert check(business_a, origin).json() == {"allowed": False}, origin


def test_any_website_may_ask_and_the_answer_is_never_cached(business_a):
    response = check(business_a, "https://anywhere.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "no-store" in response["Cache-Control"]


def test_each_business_answers_for_its_own_list(business_a, business_b):
    allow(business_a, "https://www.salon.example")
    assert check(business_a, "https://www.salon.example").json()["allowed"]
    assert not check(business_b, "https://www.salon.example").json()["allowed"]


def test_the_loader_carries_the_notice_in_both_languages_and_asks_first(business_a):
    js = client_for(business_a.host).get("/embed.js").content.decode()
    texts = json.loads(re.search(r"var texts = (\{.*?\});\n", js).group(1))
    assert texts["en"]["title"] == "Online booking is not switched on for this website yet."
    assert texts["de"]["title"] == "Die Online-Buchung ist für diese Website noch nicht freigeschaltet."
    assert "Alpha Salon" in texts["de"]["owner"] and "{origin}" in texts["de"]["owner"]
    assert f'"http://{business_a.host}:8000/book/embed-check/"' in js
    assert js.index("fetch(checkUrl") > js.index("function frame()")
