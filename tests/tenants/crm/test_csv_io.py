"""CSV files as spreadsheets write them: encodings, delimiters, headers, bad rows, limits; and the export."""

import csv
import io
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from termino.tenants.crm import csv_io, services
from termino.tenants.crm.models import Customer

from .factories import customer

pytestmark = pytest.mark.django_db

GERMAN = (
    "Vorname;Nachname;E-Mail;Telefon;Notizen;Tags\r\n"
    "Jörg;Weiß;joerg@example.com;0171 2345678;Süß;VIP, Farbe\r\n"
)


def test_utf8_with_bom_semicolons_and_german_headers():
    parsed = csv_io.read_customers(("\ufeff" + GERMAN).encode("utf-8"))
    assert parsed.delimiter == ";" and parsed.encoding == "utf-8-sig"
    assert parsed.rows == [
        {
            "row": 2,
            "first_name": "Jörg",
            "last_name": "Weiß",
            "email": "joerg@example.com",
            "phone": "0171 2345678",
            "notes": "Süß",
            "tags": "VIP, Farbe",
        }
    ]


def test_windows_1252_from_excel():
    parsed = csv_io.read_customers(GERMAN.encode("cp1252"))
    assert parsed.encoding == "cp1252"
    assert parsed.rows[0]["last_name"] == "Weiß" and parsed.rows[0]["notes"] == "Süß"


def test_utf8_without_bom_commas_english_headers_and_quotes():
    text = (
        "first_name,last_name,email,phone,notes,extra\n"
        '"Anna","Müller, geb. Schmidt",,+49 30 1234567,"Zeile 1\nZeile 2",x\n'
    )
    parsed = csv_io.read_customers(text.encode("utf-8"))
    assert parsed.delimiter == "," and parsed.encoding == "utf-8-sig"
    assert parsed.rows[0]["last_name"] == "Müller, geb. Schmidt"
    assert parsed.rows[0]["notes"] == "Zeile 1\nZeile 2"
    assert parsed.ignored_columns == ["extra"]


def test_header_variants_and_two_phone_columns():
    text = "Nach-Name;VORNAME;Mail;Telefon;Handy\nMüller;Anna;;;0171 2345678\nWeiß;;;030 123456;0171 1\n"
    rows = csv_io.read_customers(text.encode()).rows
    assert rows[0]["last_name"] == "Müller" and rows[0]["phone"] == "0171 2345678"
    assert rows[1]["phone"] == "030 123456"  # the first filled column counts


def test_blank_lines_are_skipped_but_numbering_follows_the_file():
    text = "Nachname\n\nMüller\n;\nWeiß\n"
    assert [r["row"] for r in csv_io.read_customers(text.encode()).rows] == [3, 5]


def test_utf16_from_excel_unicode_text():
    text = "Nachname\tVorname\nMüller\tAnna\n"
    parsed = csv_io.read_customers(text.encode("utf-16"))
    assert parsed.delimiter == "\t" and parsed.rows[0]["last_name"] == "Müller"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file contains no customers"),
        (b"Nachname;Vorname\n", "The file contains no customers"),
        (b"Vorname;E-Mail\nAnna;a@b.de\n", "There is no column for the last name"),
        (b"PK\x03\x04\x00\x00binary", "This is not a CSV file"),
        (b"Nachname\n" + b"x\n" * 5001, "more than 5000 customers"),
        (b"Nachname\n" + b"x" * (2 * 1024 * 1024), "larger than 2 MB"),
    ],
)
def test_files_that_cannot_be_read_say_why(data, message):
    with translation.override("en"), pytest.raises(csv_io.CsvError) as exc:
        csv_io.read_customers(data)
    assert message in exc.value.message


def test_sample_files_are_accepted():
    for language in ("de", "en"):
        rows = csv_io.read_customers(csv_io.sample_csv(language)).rows
        assert [r["last_name"] for r in rows] == ["Müller", "Weiß"]


def test_import_check_reports_per_row(business_a):
    text = (
        "Vorname;Nachname;E-Mail;Telefon;Tags\n"
        "Anna;Müller;anna@example.com;0171 2345678;vip\n"  # row 2: exists (e-mail)
        "Ben;Neu;ben@example.com;;\n"  # row 3: new
        ";;kaputt@;12;\n"  # row 4: three errors
        "Carla;Neu;BEN@example.com;;\n"  # row 5: same e-mail as row 3
        "Dora;Fon;;030 1234567;\n"  # row 6: exists (phone)
        "Emil;Gut;;+43 664 1234567;a, b\n"  # row 7: new
    )
    with schema_context(business_a.schema):
        existing = customer(email="anna@example.com")
        customer("Alt", phone="+49301234567")
        with translation.override("en"):
            rows = services.customer_import_check(rows=csv_io.read_customers(text.encode()).rows, region="DE")
        assert [r.status for r in rows] == ["exists", "new", "error", "repeated", "exists", "new"]
        assert rows[0].existing_id == existing.pk
        assert set(rows[2].errors) == {"last_name", "email", "phone"}
        assert rows[2].errors["last_name"] == ["Please enter the last name."]
        assert rows[3].same_as_row == 3

        result = services.customer_import(rows=csv_io.read_customers(text.encode()).rows, region="DE")
        assert (result.created, result.skipped) == (2, 4)
        emil = Customer.objects.get(last_name="Gut")
        assert emil.phone == "+436641234567" and emil.tags == ["a", "b"]
        # A second run finds them all already there.
        again = services.customer_import(rows=csv_io.read_customers(text.encode()).rows, region="DE")
        assert again.created == 0


def export_text(customers, language="de") -> str:
    with translation.override(language):
        headers = csv_io.export_headers()
    return "".join(csv_io.write_customers(customers, headers=headers, zone=ZoneInfo("Europe/Berlin")))


def test_export_for_excel_and_back():
    made = timezone.datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC"))  # already 2 March in Berlin
    people = [
        SimpleNamespace(
            first_name="Jörg",
            last_name="Weiß",
            email="j@example.com",
            phone="+491712345678",
            tags=["vip", "farbe"],
            notes='=HYPERLINK("x")',
            created_at=made,
        ),
    ]
    text = export_text(people)
    assert text.startswith("\ufeffVorname;Nachname;E-Mail;Telefon;Tags;")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[1] == [
        "Jörg",
        "Weiß",
        "j@example.com",
        "+491712345678",
        "vip, farbe",
        '\'=HYPERLINK("x")',
        "2026-03-02",
    ]
    # The export reads back in as the same customer (formula guard removed again).
    back = csv_io.read_customers(text.encode("utf-8")).rows[0]
    assert (
        back["notes"] == '=HYPERLINK("x")'
        and back["tags"] == "vip, farbe"
        and back["phone"] == "+491712345678"
    )
    assert export_text(people, "en").startswith("\ufeffFirst name;Last name;E-mail;Phone;Tags;Notes;")
