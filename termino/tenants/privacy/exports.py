"""Exports of personal data.

- One customer (Art. 15 and 20 GDPR): everything stored about them as a dict, rendered as JSON or as a
  ZIP with one CSV file per section. Keys are stable English names so the files are machine-readable.
- The whole business (its own right to its data): every table of its schema as JSON and CSV in a ZIP,
  written to a file object the caller provides (a temporary file), never built in memory.

Exports only read. Recording who exported what is the caller's job (`services.event_record`).

What a customer's export holds (the same whether the team downloads it or the customer gets it through a
confirmed request; docs/privacy.md says it for people):
- Included: the entry (contact data, the team's free-text notes field, tags, restriction), every note the
  team wrote about the person, the consent history, appointments (with their notes, cancellation reason
  and the staff member or room booked, which is part of the service received), the messages sent to them
  with text and recipient, their requests from the booking page, their waitlist entries and the offers
  made to them, their payments (amounts, refunds; no card data is stored), and the processing log of
  their data: when it was viewed, exported, changed, restricted or erased, and whether by the business or
  by the customer themself (CJEU C-579/21: dates and kind of the processing, not the staff member's identity).
- Left out, as internal or as someone else's data (Art. 15(4)): which team member wrote a note, created
  the entry or opened, changed or exported it (names, logins, IP addresses of the audit trail); the
  details of audit rows; pairs of likely duplicates (they name another customer entry); data of any other
  customer; secrets (manage-link tokens, hashes).
"""

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.apps import apps
from django.db import connection
from django.db.backends.postgresql.psycopg_any import Range
from django.utils import timezone

from termino.shared.spreadsheet import text_cell
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, AppointmentStatus

from .models import CUSTOMER_ACTOR, PersonalDataEvent, PrivacyRequest

CUSTOMER_FORMAT = "termino-customer-export/1"
BUSINESS_FORMAT = "termino-business-export/1"

# The columns of each section, in order; also the CSV headers (present even when a section is empty).
SECTIONS = {
    "customer": [
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "notes",
        "tags",
        "processing_restricted",
        "created_at",
        "updated_at",
    ],
    "notes": ["id", "created_at", "text"],
    "consents": ["kind", "granted", "policy_version", "source", "recorded_at"],
    "appointments": [
        "id",
        "service",
        "start",
        "end",
        "status",
        "booked_via",
        "with",
        "price",
        "notes",
        "cancel_reason",
        "created_at",
    ],
    "messages": ["id", "channel", "kind", "recipient", "text", "status", "due_at", "sent_at"],
    "privacy_requests": ["kind", "status", "created_at", "verified_at", "handled_at"],
    "processing_log": ["at", "action", "by"],
}
# Sections of apps above this one (waitlist, payments), which register them at start-up (`section_register`):
# this module must not import them. Each is a function (customer, when) → rows.
_SECTION_ROWS: dict[str, Callable] = {}


def section_register(name: str, columns: list[str], rows: Callable) -> None:
    """Add a section to every customer export: `rows(customer=…, when=…)` lists its rows (`when` formats an
    instant as the export does), each with exactly `columns`."""
    SECTIONS[name] = columns
    _SECTION_ROWS[name] = rows


def _zone() -> ZoneInfo:
    """The business's time zone: times in an export read as the business and the customer know them."""
    name = getattr(getattr(connection, "tenant", None), "time_zone", "") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(value: datetime | None, zone) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


def _business_name() -> str:
    return getattr(getattr(connection, "tenant", None), "name", "") or ""


# --- One customer --------------------------------------------------------------------------------------


def customer_export(*, customer: Customer) -> dict:
    """Everything stored about `customer`: contact, tags, notes, consent history, appointments, messages,
    their privacy requests and when their data was processed how. Who of the team wrote, viewed or changed
    something is left out (see the module's docstring); who served an appointment (`with`) is part of the
    appointment."""
    zone = _zone()
    appointments = (
        Appointment.objects.filter(customer=customer)
        .exclude(status=AppointmentStatus.HELD)
        .select_related("service")
        .prefetch_related("allocations__resource")
        .order_by("start", "id")
    )
    requests = PrivacyRequest.objects.filter(email=customer.email) if customer.email else []
    data = {
        "format": CUSTOMER_FORMAT,
        "exported_at": _when(timezone.now(), zone),
        "business": _business_name(),
        "customer": {
            "id": customer.pk,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": customer.phone,
            "notes": customer.notes,
            "tags": list(customer.tags),
            "processing_restricted": customer.processing_restricted,
            "created_at": _when(customer.created_at, zone),
            "updated_at": _when(customer.updated_at, zone),
        },
        "notes": [
            {"id": n.pk, "created_at": _when(n.created_at, zone), "text": n.text}
            for n in CustomerNote.objects.filter(customer=customer).order_by("created_at", "id")
        ],
        "consents": [
            {
                "kind": c.kind,
                "granted": c.granted,
                "policy_version": c.policy_version,
                "source": c.source,
                "recorded_at": _when(c.recorded_at, zone),
            }
            for c in Consent.objects.filter(customer=customer).order_by("recorded_at", "id")
        ],
        "appointments": [
            {
                "id": a.pk,
                "service": a.service.name,
                "start": _when(a.start, zone),
                "end": _when(a.end, zone),
                "status": a.status,
                "booked_via": a.source,
                "with": sorted({al.resource.name for al in a.allocations.all()}),
                "price": str(a.price),
                "notes": a.notes,
                "cancel_reason": a.cancel_reason,
                "created_at": _when(a.created_at, zone),
            }
            for a in appointments
        ],
        "messages": [
            {
                "id": m.pk,
                "channel": m.channel,
                "kind": m.kind,
                "recipient": m.recipient,
                "text": m.text,
                "status": m.status,
                "due_at": _when(m.due_at, zone),
                "sent_at": _when(m.sent_at, zone),
            }
            for m in OutboxMessage.objects.filter(customer=customer).order_by("due_at", "id")
        ],
        "privacy_requests": [
            {
                "kind": r.kind,
                "status": r.status,
                "created_at": _when(r.created_at, zone),
                "verified_at": _when(r.verified_at, zone),
                "handled_at": _when(r.handled_at, zone),
            }
            for r in requests
        ],
        "processing_log": [
            {
                "at": _when(e.created_at, zone),
                "action": e.action,
                "by": "customer" if e.actor_label == CUSTOMER_ACTOR else "business",
            }
            for e in PersonalDataEvent.objects.filter(customer_id=customer.pk).order_by("created_at", "id")
        ],
    }
    for name, rows in _SECTION_ROWS.items():
        data[name] = rows(customer=customer, when=lambda value: _when(value, zone))
    return data


def customers_export(*, customers: Iterable[Customer]) -> dict:
    """Several customer records in one file: a request by e-mail may match more than one entry."""
    return {
        "format": CUSTOMER_FORMAT,
        "exported_at": _when(timezone.now(), _zone()),
        "business": _business_name(),
        "customers": [customer_export(customer=c) for c in customers],
    }


def export_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _csv_cell(value) -> str:
    """A value as a CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text_cell(str(value))


def _csv_bytes(columns: list[str], rows: Iterable) -> bytes:
    """CSV for Excel, as the customer list export: UTF-8 with BOM, `;` between cells, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_csv_zip(data: dict) -> bytes:
    """A customer export as a ZIP with one CSV file per section (customer.csv, notes.csv, …)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section, columns in SECTIONS.items():
            rows = [data[section]] if section == "customer" else data[section]
            archive.writestr(f"{section}.csv", _csv_bytes(columns, rows))
    return buffer.getvalue()


# --- The whole business --------------------------------------------------------------------------------

# Tables that hold no business data: answers the public API replays for a retried request, and keyed
# hashes of who holds a slot for a few minutes.
SKIPPED_TABLES = {"booking_idempotentrequest", "booking_holdowner"}
# Secrets are never exported: password hashes, hashes of link tokens, customers' manage-link tokens.
SECRET_FIELDS = {"password", "token_hash", "manage_token"}


def _is_business_model(model) -> bool:
    if not model.__module__.startswith("termino.tenants.") or model._meta.proxy or not model._meta.managed:
        return False
    if model._meta.auto_created:  # a many-to-many table: only between our own tables (not auth groups)
        targets = [f.related_model for f in model._meta.concrete_fields if f.is_relation]
        return all(t.__module__.startswith("termino.tenants.") for t in targets)
    return True


def business_tables() -> list:
    """Every table of a business's schema holding its data, found from the models (new apps included)."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if _is_business_model(model) and model._meta.db_table not in SKIPPED_TABLES
    ]
    return sorted(found, key=lambda m: m._meta.db_table)


def _plain(value):
    """A database value as JSON: times in ISO 8601, amounts as text (exact), ranges as their bounds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Range):
        return {"lower": _plain(value.lower), "upper": _plain(value.upper), "bounds": value.bounds}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in SECRET_FIELDS]


def _rows(model, columns: list[str]):
    query = model._base_manager.order_by("pk").values_list(*columns)
    for values in query.iterator(chunk_size=2000):
        yield {c: _plain(v) for c, v in zip(columns, values, strict=True)}


def business_export_write(*, out, tenant, readme: str = "") -> dict[str, int]:
    """Writes the ZIP to the binary file object `out`: json/<table>.json, csv/<table>.csv, manifest.json.

    Returns the number of rows per table. Each table is read twice (JSON, then CSV) in chunks, so the
    memory used does not grow with the business.
    """
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for model in business_tables():
            name = model._meta.db_table
            columns = _columns(model)
            count = 0
            with archive.open(f"json/{name}.json", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
                text.write("[")
                for row in _rows(model, columns):
                    text.write(("\n  " if count == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False))
                    count += 1
                text.write("\n]\n" if count else "]\n")
                text.flush()
                text.detach()
            with archive.open(f"csv/{name}.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                text.write("\ufeff")
                writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
                writer.writerow(columns)
                for row in _rows(model, columns):
                    writer.writerow([_csv_cell(row[c]) for c in columns])
                text.flush()
                text.detach()
            counts[name] = count
        manifest = {
            "format": BUSINESS_FORMAT,
            "exported_at": _when(timezone.now(), _zone()),
            "business": {
                "name": tenant.name,
                "address": tenant.slug,
                "owner_name": tenant.owner_name,
                "email": tenant.email,
                "phone": tenant.phone,
                "street": tenant.street,
                "postcode": tenant.postcode,
                "city": tenant.city,
                "country": str(tenant.country),
                "time_zone": tenant.time_zone,
                "language": tenant.language,
            },
            "tables": counts,
            "not_included": sorted(SECRET_FIELDS),
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        if readme:
            archive.writestr("README.txt", readme)
    return counts
