import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Domain, Tenant, TenantStatus
from tests.conftest import PASSWORD, client_for, unique_slug

pytestmark = pytest.mark.django_db

User = get_user_model()


def form_data(**overrides) -> dict:
    data = {
        "owner_name": "  Max   Mustermann ",
        "company_name": "Salon Schnittig",
        "street": "Lindenstraße 5",
        "postcode": "10969",
        "city": "Berlin",
        "country": "DE",
        "phone": "030 2345678",
        "email": "Max@Schnittig.example",
        "password": PASSWORD,
        "slug": unique_slug(),
        "accept_terms": "on",
    }
    data.update(overrides)
    return data


def post_signup(data: dict, lang: str = "en"):
    return client_for("localhost").post("/signup/", data, HTTP_ACCEPT_LANGUAGE=lang)


def test_signup_page_renders_in_german_and_english():
    de = client_for("localhost").get("/signup/", HTTP_ACCEPT_LANGUAGE="de")
    en = client_for("localhost").get("/signup/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"Unternehmen anlegen" in de.content
    assert b"Create your business" in en.content


def test_signup_creates_business_domain_schema_and_owner():
    data = form_data()
    response = post_signup(data)
    assert response.status_code == 302
    slug = data["slug"]
    assert re.fullmatch(rf"http://{slug}\.localhost:8000/welcome/[\w-]{{43}}/", response["Location"])

    tenant = Tenant.objects.get(slug=slug)
    assert tenant.status == TenantStatus.TRIAL
    assert tenant.schema_name == "t_" + slug.replace("-", "_")
    assert tenant.phone == "+49302345678"  # E.164
    assert tenant.owner_name == "Max Mustermann"
    assert tenant.email == "max@schnittig.example"
    assert tenant.terms_accepted_at is not None
    assert Domain.objects.get(tenant=tenant).domain == f"{slug}.localhost"
    with schema_context(tenant.schema_name):
        owner = User.objects.get()
        assert owner.username == "max@schnittig.example"
        assert owner.role == "owner"
        assert owner.check_password(PASSWORD)
        assert owner.password.startswith("argon2")
    assert not User.objects.filter(username="max@schnittig.example").exists()  # not in public


def test_signup_lands_the_owner_logged_in_at_her_backoffice():
    data = form_data()
    location = post_signup(data)["Location"]
    path = location.split(":8000", 1)[1]
    client = client_for(f"{data['slug']}.localhost")
    landed = client.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert home.context["user"].username == "max@schnittig.example"
    assert "max@schnittig.example" not in location  # no login name, let alone a password, in the link


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "ab", "at least 3 characters"),
        ("slug", "Bad_Slug", "lowercase letters"),
        ("slug", "-dash", "lowercase letters"),
        ("slug", "a--b", "double hyphens"),
        ("slug", "x" * 41, "at most 40 characters"),
        ("slug", "admin", "reserved"),
        ("slug", "www", "reserved"),
        ("phone", "12", "valid phone number"),
        ("phone", "+49 30 1", "valid phone number"),
        ("email", "not-an-email", "valid email"),
        ("password", "12345678901", "digits only"),
        ("password", "short", "too short"),
        ("password", "password123", "most common"),
        ("postcode", "1234", "5 digits"),
        ("accept_terms", "", "accept the terms"),
        ("company_name", "", "required"),
        ("owner_name", "", "required"),
    ],
)
def test_invalid_input_is_explained_and_nothing_is_created(field, value, message):
    before = Tenant.objects.count()
    data = form_data(**{field: value})
    if not value:
        data.pop(field)
    response = post_signup(data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Tenant.objects.count() == before


def test_password_similar_to_email_is_refused():
    response = post_signup(form_data(email="schnittigsalon@example.com", password="schnittigsalon"))
    assert "too similar" in response.content.decode()


def test_austrian_number_is_stored_in_e164_and_four_digit_postcode_accepted():
    data = form_data(country="AT", phone="0664 1234567", postcode="1010", city="Wien")
    assert post_signup(data).status_code == 302
    assert Tenant.objects.get(slug=data["slug"]).phone == "+436641234567"


def test_taken_address_is_refused(business_a):
    response = post_signup(form_data(slug=business_a.tenant.slug))
    assert response.status_code == 200
    assert "This address is already taken" in response.content.decode()


def test_errors_are_german_for_german_visitors(business_a):
    response = post_signup(form_data(slug=business_a.tenant.slug), lang="de")
    assert "Diese Adresse ist bereits vergeben" in response.content.decode()


def test_slug_is_normalised_to_lowercase():
    slug = unique_slug()
    assert post_signup(form_data(slug=f"  {slug.upper()} ")).status_code == 302
    assert Tenant.objects.filter(slug=slug).exists()
