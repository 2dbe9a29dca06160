"""Customers from and to CSV files as spreadsheets write them (Excel in Germany: `;` and Windows-1252).

Reading only parses and maps columns; whether a row makes a valid customer is decided by
`services.customer_import_check`, the same validation the forms use.
"""

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo

from django.utils.translation import gettext as _

from termino.shared.spreadsheet import FORMULA_START, text_cell

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# Column names people use, compared without case, spaces, hyphens, underscores and dots.
HEADERS = {
    "first_name": ("vorname", "firstname", "givenname", "first"),
    "last_name": ("nachname", "lastname", "familienname", "surname", "familyname", "last"),
    "email": ("email", "mail", "emailadresse", "emailaddress", "mailadresse"),
    "phone": (
        "telefon",
        "telefonnummer",
        "tel",
        "handy",
        "handynummer",
        "mobil",
        "mobilnummer",
        "mobile",
        "mobilephone",
        "phone",
        "phonenumber",
    ),
    "notes": ("notizen", "notiz", "notes", "note", "bemerkung", "bemerkungen", "anmerkungen", "kommentar"),
    "tags": ("tags", "tag", "schlagwörter", "schlagworte", "labels", "label"),
}
HEADER_FIELDS = {name: field for field, names in HEADERS.items() for name in names}


class CsvError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ParsedFile:
    rows: list[dict]  # {"row": spreadsheet row number, field: cell, ...}
    columns: list[tuple[str, str | None]] = field(default_factory=list)  # (header, field or None = ignored)
    delimiter: str = ";"
    encoding: str = "utf-8"

    @property
    def ignored_columns(self) -> list[str]:
        return [header for header, name in self.columns if name is None and header]


def header_field(header: str) -> str | None:
    key = header.strip().strip('"').lower()
    for char in " -_.":
        key = key.replace(char, "")
    return HEADER_FIELDS.get(key)


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise CsvError(_("This is not a CSV file. In Excel, choose “Save as” and the type “CSV”."))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise CsvError(_("The file could not be read. Please save it as “CSV UTF-8” and try again."))


def sniff_delimiter(text: str) -> str:
    """`;`, `,` or tab: whichever the header line uses most (csv.Sniffer guesses wrong on short files)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = dict.fromkeys((";", ",", "\t"), 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _cell(value: str) -> str:
    value = value.strip()
    if value.startswith("'") and value[1:2] in FORMULA_START:
        value = value[1:]
    return value


def read_customers(data: bytes) -> ParsedFile:
    if len(data) > MAX_BYTES:
        raise CsvError(
            _("The file is larger than %(size)s MB. Please split it into smaller files.")
            % {"size": MAX_BYTES // (1024 * 1024)}
        )
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    parsed = ParsedFile(rows=[], delimiter=delimiter, encoding=encoding)
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if not parsed.columns:
                parsed.columns = [(c.strip().lstrip("\ufeff"), header_field(c)) for c in cells]
                _check_columns(parsed.columns)
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise CsvError(
                    _("The file has more than %(n)d customers. Please split it into smaller files.")
                    % {"n": MAX_ROWS}
                )
            row = {"row": number}
            for (_header, name), value in zip(parsed.columns, cells, strict=False):
                # Two columns for one field (e.g. Telefon and Handy): the first filled one counts.
                if name and not row.get(name):
                    row[name] = _cell(value)
            parsed.rows.append(row)
    except csv.Error as exc:
        message = _("The file could not be read as CSV (near row %(n)d).") % {"n": reader.line_num}
        raise CsvError(message) from exc
    if not parsed.rows:
        raise CsvError(_("The file contains no customers, only a header row or nothing at all."))
    return parsed


def _check_columns(columns: list[tuple[str, str | None]]) -> None:
    if not any(name == "last_name" for _header, name in columns):
        raise CsvError(
            _(
                "There is no column for the last name. The first row must name the columns, "
                "e.g. Vorname;Nachname;E-Mail;Telefon (or first_name,last_name,email,phone)."
            )
        )


class _Echo:
    """csv.writer target that hands each written line back, for streaming responses."""

    def write(self, value: str) -> str:
        return value


def export_headers() -> list[str]:
    return [
        _("First name"),
        _("Last name"),
        _("E-mail"),
        _("Phone"),
        _("Tags"),
        _("Notes"),
        _("Customer since"),
    ]


def write_customers(customers: Iterable, *, headers: list[str], zone: tzinfo) -> Iterator[str]:
    """CSV lines for Excel: a UTF-8 BOM (or umlauts break), `;` between cells, CRLF line ends.

    Headers and time zone are passed in, not looked up: a streamed response is written after the
    request's language and time zone have been switched back.
    """
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(headers)
    for c in customers:
        yield writer.writerow(
            [
                text_cell(c.first_name),
                text_cell(c.last_name),
                text_cell(c.email),
                c.phone,  # E.164, checked by the database: "+" and digits only
                text_cell(", ".join(c.tags)),
                text_cell(c.notes),
                c.created_at.astimezone(zone).date().isoformat(),
            ]
        )


def sample_csv(language: str) -> bytes:
    """A small file to start from, with the column names of the user's language."""
    if language.startswith("de"):
        rows = [
            ["Vorname", "Nachname", "E-Mail", "Telefon", "Notizen", "Tags"],
            ["Anna", "Müller", "anna.mueller@example.com", "0171 2345678", "Kommt samstags", "stammkundin"],
            ["Jörg", "Weiß", "", "+49 30 1234567", "", "vip, farbe"],
        ]
    else:
        rows = [
            ["first_name", "last_name", "email", "phone", "notes", "tags"],
            ["Anna", "Müller", "anna.mueller@example.com", "0171 2345678", "Prefers Saturdays", "regular"],
            ["Jörg", "Weiß", "", "+49 30 1234567", "", "vip, colour"],
        ]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
