"""A service's price is typed the way the business writes numbers (German: "39,50"), whatever language
the browser speaks, is refused with a sentence when it could be misread, and is shown back normalised."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.scheduling.models import Service
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.backoffice.test_settings_catalog_services import form_data
from tests.tenants.scheduling.factories import salon
from tests.tenants.scheduling.test_api import post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["39,50", "39.50", "39,5", "39,50 €"])
def test_an_english_browser_types_the_german_business_price(business_a, typed):
    client = log_in_as(business_a, language="en-US")
    response = client.post("/settings/services/new/", form_data(name="Färben", price=typed))
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(business_a.schema):
        assert Service.objects.get(name="Färben").price == Decimal("39.50")
    listing = client.get("/settings/services/").content.decode()
    assert "39,50\xa0€" in listing


def test_thousands_either_way(business_a):
    client = log_in_as(business_a)
    client.post("/settings/services/new/", form_data(name="Kurs A", price="1.234,50"))
    client.post("/settings/services/new/", form_data(name="Kurs B", price="1,234.50"))
    with schema_context(business_a.schema):
        prices = dict(Service.objects.filter(name__startswith="Kurs").values_list("name", "price"))
    assert prices == {"Kurs A": Decimal("1234.50"), "Kurs B": Decimal("1234.50")}


@pytest.mark.parametrize(
    ("typed", "language", "message"),
    [
        ("1,234", "de", "Ist „1,234“ als 1234 gemeint?"),
        ("1,234", "en", "Is “1,234” meant as 1234?"),
        ("neununddreißig", "de", "Bitte geben Sie einen Preis wie 39,50 ein."),
        ("-5", "en", "A price cannot be negative."),
    ],
)
def test_a_price_that_could_be_misread_is_refused_and_nothing_saved(business_a, typed, language, message):
    client = log_in_as(business_a, language=language)
    response = client.post("/settings/services/new/", form_data(name="Unklar", price=typed))
    assert response.status_code == 400 and message in response.content.decode()
    with schema_context(business_a.schema):
        assert not Service.objects.filter(name="Unklar").exists()


def test_the_form_comes_back_with_the_price_normalised(business_a):
    client = log_in_as(business_a)
    # Another field is wrong: the price typed the English way comes back the business's way.
    response = client.post("/settings/services/new/", form_data(name="", price="39.5"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="39,50"' in html and "Customers see: 39,50\xa0€" in html


def test_a_free_service_is_shown_as_free(business_a, business_b):
    with schema_context(business_a.schema):
        service, _staff, _room = salon(name="Beratung")
    assert service.price == 0
    assert "kostenlos" in log_in_as(business_a, language="de").get("/settings/services/").content.decode()
    english = log_in_as(business_a).get("/settings/services/").content.decode()
    assert "free" in english and "0,00" not in english and "0.00" not in english
    # Business B's list shows none of A's services.
    assert "Beratung" not in log_in_as(business_b).get("/settings/services/").content.decode()


def test_the_staff_api_takes_and_gives_decimal_strings(business_a, business_b):
    with schema_context(business_a.schema):
        owner = get_user_model().objects.get(username=business_a.owner_username)
        key = api_token_create(user=owner, name="Preise").key
    api = client_for(business_a.host, "de")
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    created = post(api, "/api/v1/services/", {"name": "Bart", "duration_minutes": 20, "price": "39.50"})
    assert created.status_code == 201 and created.json()["price"] == "39.50"
    refused = post(api, "/api/v1/services/", {"name": "Bart 2", "duration_minutes": 20, "price": "39,50"})
    assert refused.status_code == 400
    assert refused.json()["price"] == ["Bitte senden Sie den Preis als Dezimalzahl mit Punkt, z. B. „39.50“."]
    # The same key is unknown at business B, and B's list holds none of A's services.
    other = client_for(business_b.host)
    other.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    assert other.get("/api/v1/services/").status_code == 401
