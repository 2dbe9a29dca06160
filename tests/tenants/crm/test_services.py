"""Writes to customers: validation, create/update, tags, notes, merge; and what the database refuses."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from django_tenants.utils import schema_context

from termino.shared.errors import InvalidRequest
from termino.tenants.crm import services
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.tenants.backoffice.helpers import make_user

from .factories import appointment, consent, customer, message, note

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(business_a):
    with schema_context(business_a.schema):
        yield business_a


def test_create_normalises_phone_email_and_tags(schema):
    user = make_user(schema, "staff")
    with schema_context(schema.schema):
        c = services.customer_create(
            first_name="  Anna ",
            last_name=" Müller  Lüdenscheidt",
            email=" Anna.Mueller@Example.COM ",
            phone="0171 2345678",
            tags="VIP, Farbe,, vip",
            created_by=user,
        )
        c.refresh_from_db()
        assert (c.first_name, c.last_name) == ("Anna", "Müller Lüdenscheidt")
        assert c.email == "anna.mueller@example.com"
        assert c.phone == "+491712345678"
        assert c.tags == ["vip", "farbe"]
        assert c.created_by == user


@pytest.mark.parametrize(
    ("region", "typed", "stored"),
    [
        ("DE", "030 1234567", "+49301234567"),
        ("DE", "+43 664 1234567", "+436641234567"),
        ("DE", "0043 664 1234567", "+436641234567"),
        ("AT", "0664 1234567", "+436641234567"),
        ("", "0171/2345678", "+491712345678"),
    ],
)
def test_phone_region(schema, region, typed, stored):
    assert services.phone_normalize(typed, region=region) == stored


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"last_name": ""}, "last_name", "Please enter the last name."),
        ({"phone": "12"}, "phone", "This does not look like a valid phone number. Include the area code."),
        ({"phone": "hallo"}, "phone", "This does not look like a valid phone number. Include the area code."),
        ({"email": "anna@"}, "email", "Please enter a valid e-mail address."),
        ({"last_name": "x" * 101}, "last_name", "Please use at most 100 characters."),
        ({"tags": "a" * 41}, "tags", "A tag can have at most 40 characters: " + "a" * 41),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(schema, fields, field, message):
    data = {"first_name": "Anna", "last_name": "Müller", **fields}
    with translation.override("en"), pytest.raises(InvalidRequest) as exc:
        services.customer_create(**data)
    assert exc.value.message == message
    with translation.override("en"), pytest.raises(services.ValidationError) as clean_exc:
        services.customer_clean(**data)
    assert clean_exc.value.message_dict[field] == [message]
    assert not Customer.objects.exists()


def test_clean_reports_every_field_at_once(schema):
    with pytest.raises(services.ValidationError) as exc:
        services.customer_clean(last_name="", email="x", phone="1")
    assert set(exc.value.message_dict) == {"last_name", "email", "phone"}


def test_message_follows_the_active_language(schema):
    with translation.override("de"), pytest.raises(InvalidRequest) as exc:
        services.customer_create(first_name="Anna", last_name="Müller", phone="12")
    with translation.override("de"):
        expected = translation.gettext("This does not look like a valid phone number. Include the area code.")
    assert exc.value.message == expected


def test_too_many_tags(schema):
    with pytest.raises(InvalidRequest):
        services.customer_create(first_name="A", last_name="B", tags=[f"t{n}" for n in range(21)])


def test_update_and_duplicates(schema):
    anna = customer(email="anna@example.com", phone="+491712345678")
    other = customer("Weiß", "Emil")
    assert services.customer_duplicates(email="anna@example.com", phone="") == [anna]
    assert services.customer_duplicates(email="", phone="+491712345678") == [anna]
    assert services.customer_duplicates(email="", phone="") == []
    assert services.customer_duplicates(email="anna@example.com", phone="", exclude_id=anna.pk) == []
    services.customer_update(
        customer=other, first_name="Emil", last_name="Weiß", phone="030 1234567", tags="Neu"
    )
    other.refresh_from_db()
    assert other.phone == "+49301234567" and other.tags == ["neu"]
    with pytest.raises(InvalidRequest):
        services.customer_update(customer=other, first_name="Emil", last_name="", phone="")
    other.refresh_from_db()
    assert other.last_name == "Weiß"


def test_tags_add_and_remove(schema):
    anna = customer(tags=["vip"])
    services.customer_tags_add(customer=anna, tags="Farbe, VIP")
    anna.refresh_from_db()
    assert anna.tags == ["vip", "farbe"]
    services.customer_tag_remove(customer=anna, tag="VIP")
    anna.refresh_from_db()
    assert anna.tags == ["farbe"]
    with pytest.raises(InvalidRequest):
        services.customer_tags_add(customer=anna, tags=" , ")


def test_notes(schema):
    anna = customer()
    with pytest.raises(InvalidRequest):
        services.customer_note_add(customer=anna, author=None, text="   ")
    n = services.customer_note_add(customer=anna, author=None, text=" Allergie gegen Ammoniak ")
    assert n.text == "Allergie gegen Ammoniak"
    services.customer_note_delete(note=n)
    assert not CustomerNote.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"phone": "0171 2345678"},
        {"email": "Anna@Example.com"},
        {"tags": ["VIP"]},
        {"tags": [""]},
    ],
)
def test_database_refuses_unnormalised_values(schema, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(last_name="Müller", **fields)


def test_database_refuses_empty_note(schema):
    anna = customer()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerNote.objects.create(customer=anna, text="")


def test_merge_moves_everything_and_fills_gaps(schema):
    user = make_user(schema, "manager")
    with schema_context(schema.schema):
        keep = customer("Müller", "", email="anna@example.com", tags=["vip"], notes="Mag Tee.")
        dup = customer(
            "Mueller", "Anna", phone="+491712345678", email="old@example.com", tags=["farbe", "vip"]
        )
        dup.notes = "Allergie: Ammoniak."
        dup.save()
        visits = [appointment(dup, days=-5, status="no_show"), appointment(dup, days=3)]
        appointment(keep, days=10)
        note(dup, "Kommt immer zu spät.")
        consent(dup)
        message(dup)
        plan = services.customer_merge_plan(keep=keep, duplicate=dup)
        assert {m["relation"]: m["count"] for m in plan.moves} == {
            "appointments": 2,
            "customer_notes": 1,
            "consents": 1,
            "messages": 1,
        }
        assert plan.fields["first_name"] == "Anna" and plan.fields["phone"] == "+491712345678"
        assert "email" not in plan.fields  # the kept customer's own value wins

        kept = services.customer_merge(keep_id=keep.pk, duplicate_id=dup.pk, merged_by=user)

        assert not Customer.objects.filter(pk=dup.pk).exists()
        kept.refresh_from_db()
        assert (kept.first_name, kept.last_name, kept.email, kept.phone) == (
            "Anna",
            "Müller",
            "anna@example.com",
            "+491712345678",
        )
        assert kept.tags == ["vip", "farbe"]
        assert kept.notes == "Mag Tee.\n\nAllergie: Ammoniak."
        assert set(Appointment.objects.filter(customer=kept).values_list("pk", flat=True)) >= {
            v.pk for v in visits
        }
        assert Appointment.objects.filter(customer=kept).count() == 3
        assert Consent.objects.get().customer == kept
        assert OutboxMessage.objects.get().customer == kept
        notes = list(CustomerNote.objects.filter(customer=kept).order_by("id"))
        assert notes[0].text == "Kommt immer zu spät."
        assert "Mueller" in notes[1].text and notes[1].author == user  # the merge leaves a trace


def test_merge_refuses_same_or_missing_customer(schema):
    anna = customer()
    with pytest.raises(InvalidRequest):
        services.customer_merge(keep_id=anna.pk, duplicate_id=anna.pk)
    with pytest.raises(InvalidRequest):
        services.customer_merge(keep_id=anna.pk, duplicate_id=anna.pk + 1000)
    assert Customer.objects.filter(pk=anna.pk).exists()


def test_merge_is_all_or_nothing(schema, monkeypatch):
    keep, dup = customer(), customer("Mueller")
    appointment(dup)

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(CustomerNote, "save", boom)
    with pytest.raises(RuntimeError):
        services.customer_merge(keep_id=keep.pk, duplicate_id=dup.pk)
    assert Customer.objects.filter(pk=dup.pk).exists()
    assert Appointment.objects.get().customer_id == dup.pk
