"""Which customer an online booking belongs to: only an entry whose contact data is exactly what was given.

The booking request is anonymous. Whoever sends it may type someone else's phone number or address; so it
never joins, fills in or reads an entry it does not match, and a partial match becomes a new entry plus a
likely duplicate for the team to decide on.
"""

import json
import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.tenants.booking.services import customer_find_or_create
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Consent, Customer, CustomerNote, DuplicateSuspicion
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import booking_body, public_post

pytestmark = pytest.mark.django_db

VICTIM_PHONE = "+491701234567"
LINK = re.compile(r"https?://\S+/book/privacy/([\w-]+)/")


def fields(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return (customer.first_name, customer.last_name, customer.email, customer.phone, customer.updated_at)


def pairs() -> set[tuple[int, int, str]]:
    return set(DuplicateSuspicion.objects.values_list("customer_a_id", "customer_b_id", "reason"))


# --- The attack ----------------------------------------------------------------------------------------


def test_a_victims_phone_number_and_the_attackers_e_mail_take_over_nothing(business_a, mailoutbox):
    """Booking with a customer's phone number and one's own address used to join that customer's entry and
    write the address into it: the attacker then got the entry's export and the customer's next
    confirmations. Now the booking gets an entry of its own and the victim's stays as it was."""
    with schema_context(business_a.schema):
        service, (staff, _other), _room = salon()
        victim = Customer.objects.create(first_name="Vera", last_name="Opfermann", phone=VICTIM_PHONE)
        CustomerNote.objects.create(customer=victim, text="Allergisch gegen Latex, zahlt bar.")
        for kind in ("privacy", "sms_reminders"):
            Consent.objects.create(customer=victim, kind=kind, granted=True, source="backoffice")
        past = timezone.now().replace(microsecond=0) - timedelta(days=20)
        Appointment.objects.create(
            service=service, customer=victim, start=past, end=past + timedelta(minutes=30), status="completed"
        )
        before = fields(victim)

    attack = booking_body(
        service,
        next_monday(),
        first_name="Mallory",
        last_name="Angreifer",
        email="Mallory@Evil.example",
        phone="0170 1234567",  # the victim's number, as people type it
    )
    response = public_post(business_a.host, "bookings/", attack)
    assert response.status_code == 201, response.json()

    with schema_context(business_a.schema):
        assert fields(victim) == before
        assert Consent.objects.filter(customer=victim).count() == 2
        booked = Appointment.objects.get(pk=response.json()["id"])
        attacker = booked.customer
        assert attacker.pk != victim.pk
        assert (attacker.first_name, attacker.email, attacker.phone) == (
            "Mallory",
            "mallory@evil.example",
            VICTIM_PHONE,
        )
        assert pairs() == {(victim.pk, attacker.pk, "phone")}

    # The attacker asks for "their" data with their address: they get their own entry only.
    client = client_for(business_a.host, "en")
    client.post(
        "/book/privacy/", {"email": "mallory@evil.example", "kind": "access"}, REMOTE_ADDR="203.0.113.9"
    )
    (mail,) = mailoutbox
    token = LINK.search(mail.body)[1]
    client.post(f"/book/privacy/{token}/")
    export = client.get(f"/book/privacy/{token}/export.json")
    assert export.status_code == 200
    data = json.loads(export.content)
    assert [c["customer"]["id"] for c in data["customers"]] == [attacker.pk]
    text = export.content.decode()
    for secret in ("Vera", "Opfermann", "Latex", str(past.date())):
        assert secret not in text

    # The business books the victim next: nothing of it goes to the attacker's address.
    with schema_context(business_a.schema):
        appointment = lifecycle.appointment_book(
            actor=Actor(source="backoffice"),
            booking=scheduling.Booking(
                service=service, start=next_monday() + timedelta(hours=3), staff=staff
            ),
            customer=victim,
        )
        recipients = set(
            OutboxMessage.objects.filter(appointment=appointment).values_list("recipient", flat=True)
        )
        assert recipients == {VICTIM_PHONE}


def test_the_victims_own_export_does_not_show_the_attackers_entry(business_a, mailoutbox):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        victim = Customer.objects.create(
            first_name="Vera", last_name="Opfermann", email="vera@example.com", phone=VICTIM_PHONE
        )
    body = booking_body(service, next_monday(), last_name="Angreifer", email="mallory@evil.example")
    assert public_post(business_a.host, "bookings/", body).status_code == 201
    client = client_for(business_a.host, "en")
    client.post("/book/privacy/", {"email": "vera@example.com", "kind": "access"})
    token = LINK.search(mailoutbox[0].body)[1]
    client.post(f"/book/privacy/{token}/")
    export = client.get(f"/book/privacy/{token}/export.json")
    data = json.loads(export.content)
    assert [c["customer"]["id"] for c in data["customers"]] == [victim.pk]
    assert "Angreifer" not in export.content.decode() and "evil.example" not in export.content.decode()


# --- The rules -----------------------------------------------------------------------------------------

E, P = "anna@example.com", "+491711111111"
E2, P2 = "other@example.com", "+491712222222"


@pytest.mark.parametrize(
    ("on_record", "given", "joins", "reason"),
    [
        pytest.param((E, P), (E, P), True, None, id="same e-mail and phone: joins"),
        pytest.param(
            (E, P), ("ANNA@Example.com ", "0171 1111111"), True, None, id="spelt differently: joins"
        ),
        pytest.param((E, ""), (E, ""), True, None, id="e-mail only on both: joins"),
        pytest.param(("", P), ("", P), True, None, id="phone only on both: joins"),
        pytest.param((E, P), (E, P2), False, "email", id="e-mail matches, phone differs"),
        pytest.param((E, P), (E2, P), False, "phone", id="phone matches, e-mail differs"),
        pytest.param((E, P), ("", P), False, "phone", id="phone only given, entry has an e-mail"),
        pytest.param((E, P), (E, ""), False, "email", id="e-mail only given, entry has a phone"),
        pytest.param((E, ""), (E, P), False, "email", id="phone given that the entry lacks"),
        pytest.param(("", P), (E, P), False, "phone", id="e-mail given that the entry lacks"),
    ],
)
def test_matching_rules(business_a, on_record, given, joins, reason):
    with schema_context(business_a.schema):
        existing = Customer.objects.create(
            first_name="Anna", last_name="Berg", email=on_record[0], phone=on_record[1], notes="Stammkundin"
        )
        before = fields(existing)
        with transaction.atomic():
            found = customer_find_or_create(
                first_name="Anna", last_name="Berg", email=given[0], phone=given[1]
            )
        assert fields(existing) == before  # never written, joined or not
        if joins:
            assert found.pk == existing.pk and pairs() == set()
        else:
            assert found.pk != existing.pk
            assert (found.email, found.phone) == given
            assert pairs() == {(existing.pk, found.pk, reason)}


def test_the_same_name_alone_is_a_likely_duplicate_too(business_a):
    with schema_context(business_a.schema):
        existing = Customer.objects.create(first_name="Jörg", last_name="Müller", email=E)
        other = Customer.objects.create(first_name="Jana", last_name="Müller", email="jana@example.com")
        with transaction.atomic():
            new = customer_find_or_create(first_name="Joerg", last_name="MUELLER", email=E2, phone="")
        assert pairs() == {(existing.pk, new.pk, "name")}
        assert other.pk not in {new.pk, existing.pk}
        with transaction.atomic():
            stranger = customer_find_or_create(
                first_name="Kim", last_name="Neu", email="kim@example.com", phone=""
            )
        assert stranger.pk not in {pk for pair in pairs() for pk in pair[:2]}


def test_every_partly_matching_entry_is_paired_with_the_new_one(business_a):
    with schema_context(business_a.schema):
        by_mail = Customer.objects.create(last_name="Berg", email=E)
        by_phone = Customer.objects.create(last_name="Tal", phone=P)
        with transaction.atomic():
            new = customer_find_or_create(first_name="", last_name="Berg", email=E, phone=P)
        assert new.pk not in (by_mail.pk, by_phone.pk)
        assert pairs() == {(by_mail.pk, new.pk, "email"), (by_phone.pk, new.pk, "phone")}


def test_a_second_booking_with_the_same_new_data_joins_the_new_entry(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        Customer.objects.create(first_name="Vera", last_name="Opfermann", phone=VICTIM_PHONE)
    for hours in (0, 2):
        body = booking_body(service, next_monday() + timedelta(hours=hours), email="mallory@evil.example")
        assert public_post(business_a.host, "bookings/", body).status_code == 201
    with schema_context(business_a.schema):
        assert Customer.objects.count() == 2
        assert DuplicateSuspicion.objects.count() == 1
        new = Customer.objects.get(email="mallory@evil.example")
        assert Appointment.objects.filter(customer=new).count() == 2


def test_a_pair_is_stored_once_and_a_dismissed_pair_stays_dismissed(business_a):
    with schema_context(business_a.schema):
        a = Customer.objects.create(last_name="Berg", email=E)
        b = Customer.objects.create(last_name="Berg", email=E, phone=P)
        crm.duplicate_suspicions_record(customer=b, others=[(a, "email")])
        crm.duplicate_suspicions_record(customer=a, others=[(b, "phone")])
        (pair,) = DuplicateSuspicion.objects.all()
        assert (pair.customer_a_id, pair.customer_b_id, pair.reason) == (a.pk, b.pk, "email")
        crm.duplicate_suspicion_dismiss(suspicion_id=pair.pk)
        crm.duplicate_suspicions_record(customer=b, others=[(a, "email")])
        (pair,) = DuplicateSuspicion.objects.all()
        assert pair.dismissed_at is not None


def test_the_database_refuses_a_pair_twice_or_the_wrong_way_round(business_a):
    with schema_context(business_a.schema):
        a = Customer.objects.create(last_name="Berg")
        b = Customer.objects.create(last_name="Tal")
        DuplicateSuspicion.objects.create(customer_a=a, customer_b=b, reason="name")
        for first, second in ((a, b), (b, a), (a, a)):
            with pytest.raises(IntegrityError), transaction.atomic():
                DuplicateSuspicion.objects.create(customer_a=first, customer_b=second, reason="name")
        with pytest.raises(IntegrityError), transaction.atomic():
            DuplicateSuspicion.objects.filter(pk__gt=0).update(reason="hunch")


def test_an_unusable_phone_number_is_a_400_and_nothing_is_stored(business_a):
    with schema_context(business_a.schema):
        with pytest.raises(Exception, match="valid phone number"), transaction.atomic():
            customer_find_or_create(first_name="", last_name="Berg", email="", phone="12")
        assert not Customer.objects.exists()
