"""The data-processing agreement in the backoffice: the owner reads and accepts it (version, time, who),
downloads it as PDF with both annexes; managers read it, staff members do not; another business's
acceptance is its own."""

import io

import pytest
from pypdf import PdfReader

from termino.platform.legal import services
from termino.platform.legal.models import Category, DocumentKind, DpaAcceptance, Operator, SubProcessor
from tests.tenants.backoffice.helpers import log_in_as

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    """The PDF's words, lines joined (table cells wrap)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.fixture
def provider():
    Operator.objects.update_or_create(
        id=1, defaults={"name": "Termino Betrieb GmbH", "backups": "täglich", "hosting_location": "Frankfurt"}
    )
    return SubProcessor.objects.create(
        name="Example Hosting GmbH",
        category=Category.HOSTING,
        purpose="Servers and database",
        location="Germany",
        active_from=services.legal_today(),
    )


def test_the_owner_accepts_the_current_version(business_a, provider):
    client = log_in_as(business_a)
    current = services.document_current(DocumentKind.DPA)
    page = client.get("/data-protection/dpa/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Annex 1: Sub-processors" in html and "Example Hosting GmbH" in html
    assert "Annex 2: Technical and organisational measures" in html and "Argon2id" in html
    assert f"Accept version {current.number}" in html

    response = client.post("/data-protection/dpa/", {"version": str(current.number)})
    assert response.status_code == 302
    acceptance = DpaAcceptance.objects.get(tenant=business_a.tenant)
    assert acceptance.version == current and acceptance.username == business_a.owner_username
    assert acceptance.user_name == "Erika Mustermann" and acceptance.accepted_at is not None
    html = client.get("/data-protection/dpa/").content.decode()
    assert f"Version {current.number}, accepted by Erika Mustermann" in html
    # A second click records nothing new.
    client.post("/data-protection/dpa/", {"version": str(current.number)})
    assert DpaAcceptance.objects.filter(tenant=business_a.tenant).count() == 1


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            ["Auftragsverarbeitungsvertrag", "Anlage 1: Unterauftragsverarbeiter", "Anlage 2: Technische"],
        ),
        ("en", ["Data-processing agreement", "Annex 1: Sub-processors", "Annex 2: Technical"]),
    ],
)
def test_the_pdf_holds_the_agreement_both_annexes_and_the_acceptance(business_a, provider, language, words):
    client = log_in_as(business_a)
    current = services.document_current(DocumentKind.DPA)
    client.post("/data-protection/dpa/", {"version": str(current.number)})
    response = client.get(f"/data-protection/dpa.pdf?lang={language}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"-v{current.number}-{language}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for word in [*words, "Example Hosting GmbH", "Argon2id", "Alpha Salon", "Erika Mustermann"]:
        assert word in text, word
    # The accepted version stays downloadable after newer ones.
    Operator.objects.filter(pk=1).update(representative="Someone Else")
    newer = services.document_current(DocumentKind.DPA)
    assert newer.number == current.number + 1
    old = client.get(f"/data-protection/dpa.pdf?version={current.number}&lang={language}")
    assert old.status_code == 200 and "Erika Mustermann" in pdf_text(old.content)
    assert client.get("/data-protection/dpa.pdf?version=99999").status_code == 404
    assert client.get("/data-protection/dpa.pdf?version=x").status_code == 404


def test_a_version_published_while_reading_must_be_read_first(business_a, provider):
    client = log_in_as(business_a)
    shown = services.document_current(DocumentKind.DPA)
    Operator.objects.filter(pk=1).update(representative="Someone Else")
    response = client.post("/data-protection/dpa/", {"version": str(shown.number)})
    assert response.status_code == 409
    assert "A newer version" in response.content.decode()
    assert not DpaAcceptance.objects.filter(tenant=business_a.tenant).exists()


def test_managers_read_but_only_the_owner_accepts_staff_see_nothing(business_a, provider):
    current = services.document_current(DocumentKind.DPA)
    manager = log_in_as(business_a, "manager")
    assert manager.get("/data-protection/dpa/").status_code == 200
    assert "The owner of the business accepts it." in manager.get("/data-protection/").content.decode()
    assert manager.post("/data-protection/dpa/", {"version": str(current.number)}).status_code == 404
    assert manager.get("/data-protection/dpa.pdf").status_code == 200
    staff = log_in_as(business_a, "staff")
    for path in (
        "/data-protection/",
        "/data-protection/dpa/",
        "/data-protection/dpa.pdf",
        "/data-protection/record/",
    ):
        assert staff.get(path).status_code == 403, path
    assert not DpaAcceptance.objects.exists()


def test_an_acceptance_belongs_to_its_business(business_a, business_b, provider):
    current = services.document_current(DocumentKind.DPA)
    log_in_as(business_a).post("/data-protection/dpa/", {"version": str(current.number)})
    other = log_in_as(business_b)
    html = other.get("/data-protection/").content.decode()
    assert "Not accepted yet." in html and "Erika Mustermann" not in html.split("Data-processing")[1][:400]
    assert "Erika Mustermann" not in pdf_text(other.get("/data-protection/dpa.pdf?lang=en").content)
    assert DpaAcceptance.objects.filter(tenant=business_b.tenant).count() == 0
