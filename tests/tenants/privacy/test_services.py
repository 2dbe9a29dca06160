"""Customers' rights as services: export, erasure, restriction, objection, and the audit trail."""

import csv
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.booking.models import IdempotentRequest
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications import events
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.privacy import services
from termino.tenants.privacy.exports import SECTIONS, export_csv_zip, export_json
from termino.tenants.privacy.models import EventAction, PersonalDataEvent
from termino.tenants.scheduling.events import CREATED, Actor, AppointmentEvent, Snapshot
from termino.tenants.scheduling.models import Allocation, Appointment
from tests.tenants.backoffice.helpers import make_user
from tests.tenants.crm.factories import appointment, consent, customer

from .factories import full_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def a(business_a):
    with schema_context(business_a.schema):
        yield business_a


# --- Export --------------------------------------------------------------------------------------------


def test_export_holds_everything_about_the_customer(a):
    anna = full_customer()
    other = customer("Weiß", "Emil", email="emil@example.com")
    appointment(other)
    data = services.customer_export(customer=anna)
    assert data["format"] == "termino-customer-export/1"
    c = data["customer"]
    assert (c["first_name"], c["last_name"], c["email"], c["phone"]) == (
        "Anna",
        "Müller",
        "anna@example.com",
        "+491712345678",
    )
    assert c["notes"] == "Allergisch gegen Ammoniak." and c["tags"] == ["vip", "farbe"]
    assert sorted(n["text"] for n in data["notes"]) == ["Kommt immer zu spät.", "Mag es kurz."]
    assert [(x["kind"], x["granted"]) for x in data["consents"]] == [
        ("privacy", True),
        ("sms_reminders", True),
        ("marketing", True),
    ]
    assert [(x["status"], x["price"], x["notes"], x["with"]) for x in data["appointments"]] == [
        ("completed", "89.50", "Wünscht Strähnchen.", ["Jana"]),
        ("confirmed", "79.00", "Bitte Tee.", ["Jana"]),
    ]
    assert {m["kind"] for m in data["messages"]} == {"confirmation", "reminder"}
    assert "Hallo Anna" in next(m["text"] for m in data["messages"] if m["kind"] == "confirmation")
    # Nothing of the other customer; every section has exactly its documented keys.
    assert "Emil" not in json.dumps(data, ensure_ascii=False)
    for section, columns in SECTIONS.items():
        rows = [data[section]] if section == "customer" else data[section]
        assert all(list(row) == columns for row in rows), section


def test_json_and_csv_renderings_carry_the_same_data(a):
    anna = full_customer()
    data = services.customer_export(customer=anna)
    assert json.loads(export_json(data)) == data
    archive = zipfile.ZipFile(io.BytesIO(export_csv_zip(data)))
    assert sorted(archive.namelist()) == sorted(f"{s}.csv" for s in SECTIONS)
    for section, columns in SECTIONS.items():
        text = archive.read(f"{section}.csv").decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        expected = [data[section]] if section == "customer" else data[section]
        assert len(rows) == len(expected), section
        assert list(rows[0]) == columns if rows else True
    customer_row = next(
        csv.DictReader(io.StringIO(archive.read("customer.csv").decode().lstrip("\ufeff")), delimiter=";")
    )
    assert customer_row["email"] == "anna@example.com" and customer_row["tags"] == "vip, farbe"
    appointments = archive.read("appointments.csv").decode()
    assert "Wünscht Strähnchen." in appointments and "89.50" in appointments


def test_csv_cells_that_look_like_formulas_are_defused(a):
    anna = customer("=HYPERLINK(1)", "Anna")
    archive = zipfile.ZipFile(io.BytesIO(export_csv_zip(services.customer_export(customer=anna))))
    assert "'=HYPERLINK(1)" in archive.read("customer.csv").decode()


# --- Erasure -------------------------------------------------------------------------------------------


def test_erasure_deletes_exactly_the_personal_data_and_keeps_the_books(a):
    owner = make_user(a, "manager")
    anna = full_customer()
    emil = full_customer("Weiß", "Emil", email="emil@example.com", phone="+491712345679")
    services.event_record(action=EventAction.VIEW, actor=owner, customer=anna)
    kept = {
        a.pk: (a.service_id, a.start, a.end, a.status, a.price)
        for a in Appointment.objects.filter(customer=anna)
    }
    before = {
        "customers": Customer.objects.count(),
        "notes": CustomerNote.objects.count(),
        "consents": Consent.objects.count(),
        "appointments": Appointment.objects.count(),
        "allocations": Allocation.objects.count(),
        "messages": OutboxMessage.objects.count(),
    }

    result = services.customer_erase(customer=anna, actor=owner, ip="203.0.113.9")

    assert result.appointments_anonymised == 2 and result.notes_deleted == 2
    assert result.consents_deleted == 3 and result.messages_blanked == 2
    assert not Customer.objects.filter(pk=anna.pk).exists()
    assert Customer.objects.count() == before["customers"] - 1
    assert CustomerNote.objects.count() == before["notes"] - 2
    assert Consent.objects.count() == before["consents"] - 3
    # The books: every appointment and allocation is still there, with service, time, status and price.
    assert Appointment.objects.count() == before["appointments"]
    assert Allocation.objects.count() == before["allocations"]
    assert OutboxMessage.objects.count() == before["messages"]
    for pk, (service_id, start, end, status, price) in kept.items():
        row = Appointment.objects.get(pk=pk)
        assert (row.service_id, row.start, row.end, row.status, row.price) == (
            service_id,
            start,
            end,
            status,
            price,
        )
        assert row.customer_id is None and row.notes == "" and row.manage_token is None
    assert Decimal("89.50") in {row.price for row in Appointment.objects.filter(pk__in=kept)}
    for message in OutboxMessage.objects.filter(appointment_id__in=kept):
        assert (message.recipient, message.text, message.customer_id) == ("", "", None)
    assert OutboxMessage.objects.get(appointment_id__in=kept, kind="reminder").status == "skipped"
    assert not IdempotentRequest.objects.filter(body__id__in=list(kept)).exists()
    # Nothing of Anna is left anywhere in the schema's text: the audit trail included.
    assert "Anna" not in json.dumps(list(PersonalDataEvent.objects.values()), default=str)
    erase = PersonalDataEvent.objects.get(action="erase")
    assert (erase.customer_id, erase.customer_label, erase.actor_id, erase.ip) == (
        anna.pk,
        "",
        owner.pk,
        "203.0.113.9",
    )
    assert erase.details["appointments_anonymised"] == 2
    assert PersonalDataEvent.objects.get(action="view").customer_label == ""
    # Emil is untouched.
    emil.refresh_from_db()
    assert emil.email == "emil@example.com" and emil.appointments.count() == 2
    assert OutboxMessage.objects.filter(customer=emil).exclude(recipient="").count() == 2


def test_erasure_is_idempotent(a):
    anna = full_customer()
    services.customer_erase(customer=anna)
    counts = (Appointment.objects.count(), OutboxMessage.objects.count(), PersonalDataEvent.objects.count())
    again = services.customer_erase(customer=anna)
    assert again.already_erased and again.appointments_anonymised == 0
    assert (
        Appointment.objects.count(),
        OutboxMessage.objects.count(),
        PersonalDataEvent.objects.count(),
    ) == counts


def test_erasure_is_all_or_nothing(a, monkeypatch):
    anna = full_customer()

    def fail(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Customer, "delete", fail)
    with pytest.raises(RuntimeError):
        services.customer_erase(customer=anna)
    assert Appointment.objects.filter(customer=anna).count() == 2
    assert OutboxMessage.objects.filter(customer=anna).exclude(text="").exists()
    assert not PersonalDataEvent.objects.filter(action="erase").exists()


# --- Restriction and objection -------------------------------------------------------------------------


def test_restriction_hides_from_search_unless_asked_and_records_both_ways(a):
    anna = full_customer()
    services.customer_restrict(customer=anna, actor_label="test")
    services.customer_restrict(customer=anna, actor_label="test")  # again: no change, no second record
    assert not crm_selectors.customer_search(query="müller").exists()
    assert list(crm_selectors.customer_search(query="müller", include_restricted=True)) == [anna]
    assert "vip" not in crm_selectors.tags_in_use()
    assert "vip" in crm_selectors.tags_in_use(include_restricted=True)
    services.customer_unrestrict(customer=anna, actor_label="test")
    assert list(crm_selectors.customer_search(query="müller")) == [anna]
    assert list(PersonalDataEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "restrict",
        "unrestrict",
    ]


def test_a_restricted_customer_gets_no_messages(a):
    anna = full_customer()
    future = Appointment.objects.get(customer=anna, status="confirmed")
    OutboxMessage.objects.all().delete()
    services.customer_restrict(customer=anna)
    booked(future)
    assert not OutboxMessage.objects.exists()
    services.customer_unrestrict(customer=anna)
    booked(future)
    assert OutboxMessage.objects.filter(kind="confirmation").count() == 2  # e-mail and SMS


def booked(appointment) -> None:
    """What the lifecycle publishes when `appointment` is booked, handed to the notifications subscriber."""
    appointment = Appointment.objects.get(pk=appointment.pk)
    events.on_appointment_event(
        AppointmentEvent(
            kind=CREATED,
            appointment=appointment,
            after=Snapshot.of(appointment),
            actor=Actor(source="backoffice"),
        )
    )


def test_objection_is_recorded_as_withdrawn_marketing_consent(a):
    anna = customer()
    consent(anna, "marketing", True)
    services.customer_object_marketing(customer=anna, actor_label="test")
    latest = Consent.objects.filter(customer=anna, kind="marketing").latest("recorded_at", "id")
    assert (latest.granted, latest.source) == (False, "backoffice")
    assert PersonalDataEvent.objects.get().action == "object"


# --- The audit trail -----------------------------------------------------------------------------------


def test_the_audit_trail_is_append_only_in_the_database(a):
    event = services.event_record(action=EventAction.VIEW, actor_label="someone", customer=customer())
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    for sql in (
        "UPDATE privacy_personaldataevent SET action = 'export'",
        "UPDATE privacy_personaldataevent SET actor_label = 'someone else'",
        "UPDATE privacy_personaldataevent SET created_at = '2026-01-01T00:00:00Z'",
        "DELETE FROM privacy_personaldataevent",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    # Only what erasure needs: the customer's name may go.
    PersonalDataEvent.objects.filter(pk=event.pk).update(customer_label="")
    assert PersonalDataEvent.objects.get(pk=event.pk).customer_label == ""


def test_old_audit_entries_can_be_purged_on_purpose_only(a):
    services.event_record(action=EventAction.VIEW, actor_label="someone")
    assert services.personal_data_events_purge(before=timezone.now() + timedelta(seconds=1)) == 1
    assert not PersonalDataEvent.objects.exists()


def test_events_need_a_known_action_and_an_actor(a):
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalDataEvent.objects.create(action="peek", actor_label="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalDataEvent.objects.create(action="view", actor_label="")
