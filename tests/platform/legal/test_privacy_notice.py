"""The platform's privacy notice at /datenschutz/: every section, in German and English, filled from the
operator's entries (or saying what is missing), versioned, linked from every footer, and its version
recorded at signup."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from pypdf import PdfReader

from termino.platform.legal import services
from termino.platform.legal.models import Category, DocumentKind, DocumentVersion, Operator, SubProcessor
from termino.platform.tenancy.models import Tenant
from tests.conftest import client_for
from tests.platform.tenancy.test_signup import form_data, post_signup

from .conftest import current_text, platform

pytestmark = pytest.mark.django_db

SECTIONS = [
    "controller",
    "scope",
    "server-log",
    "cookies",
    "registration",
    "login",
    "service",
    "recipients",
    "retention",
    "rights",
    "complaint",
    "security",
    "no-profiling",
    "changes",
]


def fill_operator(**overrides) -> Operator:
    operator = Operator.current()
    values = {
        "name": "Termino Betrieb GmbH",
        "street": "Musterweg 3",
        "postcode": "10115",
        "city": "Berlin",
        "country": "Deutschland",
        "representative": "Kim Beispiel",
        "email": "datenschutz@termino.example",
        "dpo_status": "appointed",
        "dpo_name": "Dr. Dana Schutz",
        "dpo_contact": "dpo@termino.example",
        "authority_name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
        "authority_address": "Alt-Moabit 59-61, 10555 Berlin",
        "authority_url": "https://www.datenschutz-berlin.de",
        "hosting_location": "Rechenzentrum in Frankfurt am Main",
        "backups": "Täglich verschlüsselt, 30 Tage aufbewahrt",
        **overrides,
    }
    for name, value in values.items():
        setattr(operator, name, value)
    operator.save()
    SubProcessor.objects.create(
        name="Example Hosting GmbH",
        address="Serverstraße 1, 60313 Frankfurt",
        category=Category.HOSTING,
        purpose="Servers and database",
        location="Germany",
        active_from=services.legal_today() - timedelta(days=400),
    )
    return operator


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_section_is_there_in_both_languages(language):
    response = platform(language).get("/datenschutz/")
    assert response.status_code == 200
    page = response.content.decode()
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    assert f'lang="{language}"' in page
    if language == "de":
        assert "Datenschutzerklärung" in page and "Beschwerderecht bei einer Aufsichtsbehörde" in page
        assert "Server-Logfiles" in page and "Speicherdauer" in page
    else:
        assert "Right to complain to a supervisory authority" in page


def test_without_the_operators_entries_the_notice_says_what_is_missing():
    text = current_text()
    assert "has not entered its name, address, e-mail address yet" in text
    assert "has not stated yet whether a data-protection officer is appointed" in text
    assert "has not entered its supervisory authority yet" in text
    assert "no hosting provider is listed" in text
    assert "has not described its backups yet" in text


def test_the_operators_entries_fill_the_notice():
    fill_operator()
    text = current_text()
    for expected in (
        "Termino Betrieb GmbH",
        "Musterweg 3",
        "datenschutz@termino.example",
        "Dr. Dana Schutz",
        "Berliner Beauftragte für Datenschutz",
        "Example Hosting GmbH",
        "Täglich verschlüsselt",
    ):
        assert expected in text
    assert "[!]" not in text  # no warnings left


def test_providers_the_code_uses_must_be_listed(settings):
    fill_operator()
    settings.SMS_BACKEND = "lox24"
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    text = current_text()
    assert "SMS go out through LOX24; no SMS provider is listed." in text
    assert "Payments run through Stripe; no payment provider is listed." in text
    today = services.legal_today()
    SubProcessor.objects.create(
        name="LOX24", category=Category.SMS, purpose="SMS", location="DE", active_from=today
    )
    assert "no SMS provider is listed" not in current_text()


def test_the_dpo_can_be_stated_as_not_appointed():
    fill_operator(dpo_status="none", dpo_name="")
    assert "We have not appointed a data-protection officer." in current_text()


def test_versions_are_published_once_kept_and_listed():
    first = services.document_current(DocumentKind.PRIVACY)
    assert services.document_current(DocumentKind.PRIVACY).pk == first.pk  # nothing changed: same version
    fill_operator()
    second = services.document_current(DocumentKind.PRIVACY)
    assert second.number == first.number + 1 and second.published_at >= first.published_at
    response = platform().get("/datenschutz/")
    assert f"Version {second.number}, published on" in response.content.decode()
    old = platform().get(f"/datenschutz/version/{first.number}/")
    assert old.status_code == 200
    page = old.content.decode()
    assert "This is an earlier version." in page and "Termino Betrieb GmbH" not in page.split("Versions")[0]
    for number in (first.number, second.number):
        assert f'href="/datenschutz/version/{number}/"' in page
    assert platform().get("/datenschutz/version/99999/").status_code == 404
    assert DocumentVersion.objects.filter(kind="privacy", number=first.number).exists()


def test_a_version_as_pdf():
    fill_operator()
    version = services.document_current(DocumentKind.PRIVACY)
    response = platform().get(f"/datenschutz/version/{version.number}.pdf?lang=de")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Datenschutzerklärung" in text and "Termino Betrieb GmbH" in text and "sessionid" in text


def test_every_footer_links_the_current_notice(business_a):
    pages = [
        (settings.BASE_DOMAIN, "/"),
        (settings.BASE_DOMAIN, "/signup/"),
        (settings.BASE_DOMAIN, "/cookies/"),
        (settings.BASE_DOMAIN, "/staff/login/"),
        (business_a.host, "/login/"),
        (business_a.host, "/book/"),
        (business_a.host, "/cookies/"),
    ]
    for host, path in pages:
        page = client_for(host).get(path).content.decode()
        footer = page[page.rfind("<footer") :] if "<footer" in page else page[page.rfind("bk-footer") :]
        assert "/datenschutz/" in footer, (host, path)


def test_signup_records_the_version_the_owner_was_shown():
    fill_operator()
    shown = services.document_current(DocumentKind.PRIVACY)
    page = client_for(settings.BASE_DOMAIN).get("/signup/").content.decode()
    assert f'name="privacy_version" value="{shown.number}"' in page
    assert f"/datenschutz/version/{shown.number}/" in page
    Operator.objects.filter(pk=1).update(representative="Someone Else")  # a newer version meanwhile
    newer = services.document_current(DocumentKind.PRIVACY)
    assert newer.number == shown.number + 1
    data = form_data(privacy_version=str(shown.number))
    assert post_signup(data).status_code == 302
    assert Tenant.objects.get(slug=data["slug"]).privacy_notice_version == shown.number
    # Without (or with a made-up) number the current version is recorded.
    data = form_data(privacy_version="987654")
    assert post_signup(data).status_code == 302
    assert Tenant.objects.get(slug=data["slug"]).privacy_notice_version == newer.number
