"""CSV import with preview and per-row report, the sample file, and the export."""

import csv
import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from termino.tenants.crm.models import Customer
from tests.tenants.backoffice.helpers import log_in_as, make_user
from tests.tenants.crm.factories import customer

pytestmark = pytest.mark.django_db

FILE = (
    "Vorname;Nachname;E-Mail;Telefon;Notizen;Tags;Geburtstag\r\n"
    "Jörg;Weiß;joerg@example.com;0171 2345678;Süß;VIP;1.1.1980\r\n"
    ";;kaputt@;12;;;\r\n"
    "Anna;Müller;anna@example.com;;;;\r\n"
    "Ben;Neu;;030 1234567;;;\r\n"
)


def upload(client, text: str, encoding="cp1252", name="kunden.csv"):
    return client.post("/customers/import/", {"file": SimpleUploadedFile(name, text.encode(encoding))})


def test_upload_preview_confirm(business_a):
    with schema_context(business_a.schema):
        customer("Müller", "Anna", email="anna@example.com")
    client = log_in_as(business_a, "manager")
    assert "Download sample file" in client.get("/customers/import/").content.decode()
    response = upload(client, FILE)
    assert response.status_code == 302 and response["Location"].startswith("/customers/import/")
    preview_url = response["Location"]
    html = client.get(preview_url).content.decode()
    assert "kunden.csv" in html and "Geburtstag" in html  # ignored column named
    assert "Weiß" in html and "Will be imported" in html
    assert "Please enter the last name." in html and "Please enter a valid e-mail address." in html
    assert "This does not look like a valid phone number." in html
    assert "Already exists" in html
    assert 'id="row-3"' in html  # rows numbered as in the spreadsheet
    assert "Import new customers (2)" in html
    errors_only = client.get(preview_url, {"show": "error"}).content.decode()
    assert 'id="row-3"' in errors_only and 'id="row-2"' not in errors_only
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 1  # nothing imported before confirming

    done = client.post(preview_url)
    assert done.status_code == 302 and done["Location"] == "/customers/"
    with schema_context(business_a.schema):
        assert sorted(Customer.objects.values_list("last_name", flat=True)) == ["Müller", "Neu", "Weiß"]
        joerg = Customer.objects.get(last_name="Weiß")
        assert (joerg.phone, joerg.tags, joerg.notes) == ("+491712345678", ["vip"], "Süß")
    assert "New customers: 2. Rows not imported: 2." in client.get("/customers/").content.decode()
    # A second confirm (double click, back button) imports nothing more.
    again = client.post(preview_url)
    assert again.status_code == 404
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 3


def test_bad_files_are_refused_with_a_reason(business_a):
    client = log_in_as(business_a, "owner")
    cases = [
        ("Vorname;E-Mail\r\nAnna;a@example.com\r\n", "There is no column for the last name"),
        ("", "The submitted file is empty."),
        ("Nachname\r\n" + "x\r\n" * 5001, "more than 5000 customers"),
    ]
    for text, message in cases:
        response = upload(client, text, "utf-8")
        assert response.status_code == 400 and message in response.content.decode(), message
    big = client.post(
        "/customers/import/",
        {"file": SimpleUploadedFile("big.csv", b"Nachname\n" + b"x" * (2 * 1024 * 1024))},
    )
    assert big.status_code == 400 and "larger than 2 MB" in big.content.decode()
    assert client.post("/customers/import/", {}).status_code == 400
    with schema_context(business_a.schema):
        assert not Customer.objects.exists()


def test_preview_belongs_to_the_uploader_and_expires(business_a):
    owner = log_in_as(business_a, "owner")
    preview_url = upload(owner, FILE)["Location"]
    manager = log_in_as(business_a, user=make_user(business_a, "manager"))
    assert manager.get(preview_url).status_code == 404
    assert manager.post(preview_url).status_code == 404
    assert owner.get("/customers/import/not-a-token/").status_code == 404
    cache.clear()
    expired = owner.post(preview_url)
    assert expired.status_code == 404 and "expired" in expired.content.decode()
    with schema_context(business_a.schema):
        assert not Customer.objects.exists()


def test_preview_token_of_another_business_is_unknown(business_a, business_b):
    preview_url = upload(log_in_as(business_a, "owner"), FILE)["Location"]
    client_b = log_in_as(business_b, "owner")
    assert client_b.get(preview_url).status_code == 404
    assert client_b.post(preview_url).status_code == 404
    with schema_context(business_b.schema):
        assert not Customer.objects.exists()


def test_sample_file_downloads_and_imports(business_a):
    client = log_in_as(business_a, "owner", language="de")
    response = client.get("/customers/import/sample.csv")
    assert (
        response["Content-Type"] == "text/csv; charset=utf-8"
        and "attachment" in response["Content-Disposition"]
    )
    assert response.content.startswith("\ufeffVorname;Nachname".encode())
    preview = client.post("/customers/import/", {"file": SimpleUploadedFile("s.csv", response.content)})
    client.post(preview["Location"])
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 2


def test_export_respects_the_filter(business_a):
    with schema_context(business_a.schema):
        customer("Weiß", "Jörg", phone="+491712345678", tags=["vip"], notes="=1+1")
        customer("Müller", "Anna")
    client = log_in_as(business_a, "manager")
    response = client.get("/customers/export.csv", {"tag": "vip"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="customers-' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffFirst name;Last name;E-mail;Phone;Tags;Notes;Customer since\r\n")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert [r[:6] for r in rows[1:]] == [["Jörg", "Weiß", "", "+491712345678", "vip", "'=1+1"]]
    everyone = b"".join(client.get("/customers/export.csv").streaming_content).decode()
    assert "Müller" in everyone and "Weiß" in everyone
    searched = b"".join(client.get("/customers/export.csv", {"q": "mül"}).streaming_content).decode()
    assert "Müller" in searched and "Weiß" not in searched
