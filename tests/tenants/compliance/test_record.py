"""The record of processing activities (Art. 30 GDPR) of the demo business, generated from its real
configuration, as a page, PDF and Markdown, in German and English."""

import io

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from termino.tenants.notifications.models import MessageTemplate
from termino.tenants.retention.models import RetentionPolicy
from termino.tenants.scheduling.models import Service

from .conftest import log_in


def test_the_demo_business_record_states_its_real_configuration(demo_business):
    client = log_in(demo_business)
    with schema_context(demo_business.schema):
        services = list(Service.objects.filter(active=True).values_list("name", flat=True))
        hidden = Service.objects.filter(active=True).first()
        hidden.bookable_online = False
        hidden.save()
        MessageTemplate.objects.create(kind="reminder", channel="sms", body="Bis morgen, {first_name}!")
        RetentionPolicy.objects.update_or_create(id=1, defaults={"message_text_days": 45})
    page = client.get("/data-protection/record/?lang=en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Record of processing activities of Salon Sonnenschein" in html
    for name in services:
        assert name in html
    assert f"{len(services) - 1} of {len(services)} services can be booked online." in html
    assert "Anna Schmidt" in html and "Jonas Weber" in html  # the team by role
    assert "own text" in html and "standard text" in html  # the SMS reminder has the business's own text
    assert "deleted after 45 days" in html and "anonymised 10 years after" in html
    assert "24 hours, 2 hours before the appointment" in html
    assert "none between 21:00 and 08:00" in html
    assert "Kastanienallee 12" in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            [
                "Verzeichnis von Verarbeitungstätigkeiten von Salon Sonnenschein",
                "Löschfristen",
                "Kundenkartei",
            ],
        ),
        (
            "en",
            ["Record of processing activities of Salon Sonnenschein", "Deletion periods", "Customer records"],
        ),
    ],
)
def test_pdf_and_markdown_in_both_languages(demo_business, language, words):
    client = log_in(demo_business)
    markdown = client.get(f"/data-protection/record.md?lang={language}")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    assert f"verarbeitungsverzeichnis-demo-{language}.md" in markdown["Content-Disposition"]
    text = markdown.content.decode()
    assert text.startswith(f"# {words[0]}")
    for word in [*words, "Jonas Weber", "| "]:
        assert word in text
    pdf = client.get(f"/data-protection/record.pdf?lang={language}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    pdf_words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    for word in [*words, "Jonas Weber", "Anna Schmidt"]:
        assert word in pdf_words, word
