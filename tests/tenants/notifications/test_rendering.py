"""Message texts: the default for the business's language and form of address, its own texts, and the
placeholders (a fixed set, plain substitution, the time zone always stated)."""

import copy
import re
from datetime import timedelta

import pytest
from django_tenants.utils import schema_context

from termino.shared.errors import InvalidRequest
from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Customer
from termino.tenants.notifications import rendering, services, texts
from termino.tenants.notifications.models import MessageTemplate, OutboxMessage
from termino.tenants.scheduling.models import Appointment
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(business_a):
    """A booking made by phone (no manage link) for Lena Fischer, next Monday 10:00 Berlin time."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        customer = Customer.objects.create(first_name="Lena", last_name="Fischer", phone="+491701234567")
        start = next_monday()
        yield Appointment.objects.create(
            service=service, customer=customer, start=start, end=start + timedelta(minutes=30)
        )


def message(appointment, kind="confirmation", channel="sms"):
    return OutboxMessage(
        kind=kind, channel=channel, recipient="x", appointment=appointment, customer=appointment.customer
    )


def tenant_with(business, **fields):
    """A copy of the business's row with other settings (the shared fixture object stays untouched)."""
    tenant = copy.copy(business.tenant)
    for name, value in fields.items():
        setattr(tenant, name, value)
    return tenant


def set_address(value):
    BusinessSettings.objects.update_or_create(id=1, defaults={"customer_address": value})


def test_german_formal_by_default(business_a, appointment):
    _subject, sms = rendering.render(message(appointment), tenant=business_a.tenant)
    assert sms.startswith("Alpha Salon: Ihr Termin (Haarschnitt) am Montag, ")
    assert "um 10:00 Uhr (Europe/Berlin) ist gebucht" in sms and "Tel. +49 30 12345678" in sms
    subject, email = rendering.render(message(appointment, channel="email"), tenant=business_a.tenant)
    assert subject == "Ihr Termin bei Alpha Salon"
    assert email.startswith("Guten Tag Lena Fischer,\n\nIhr Termin bei Alpha Salon ist gebucht:")
    assert "10:00 Uhr (Europe/Berlin)" in email and "Hauptstraße 1, 10115 Berlin" in email


def test_german_informal(business_a, appointment):
    set_address("informal")
    _subject, sms = rendering.render(message(appointment, "reminder"), tenant=business_a.tenant)
    assert sms.startswith("Erinnerung von Alpha Salon: Haarschnitt am Montag,")
    subject, email = rendering.render(message(appointment, "change", "email"), tenant=business_a.tenant)
    assert subject == "Dein Termin bei Alpha Salon wurde verschoben"
    assert email.startswith("Hallo Lena,\n\ndein Termin bei Alpha Salon hat eine neue Zeit:")
    assert "Sie " not in email and "Ihr " not in email


def test_english_reads_the_same_formal_or_informal(business_a, appointment):
    english = tenant_with(business_a, language="en")
    set_address("informal")
    informal = rendering.render(message(appointment, "cancellation", "email"), tenant=english)
    set_address("formal")
    formal = rendering.render(message(appointment, "cancellation", "email"), tenant=english)
    assert informal == formal
    subject, body = formal
    assert subject == "Your appointment at Alpha Salon is cancelled"
    assert body.startswith("Hello Lena,\n\nyour appointment at Alpha Salon is cancelled:")
    assert re.search(r"Monday, \d{1,2} \w+ \d{4}, 10:00 \(Europe/Berlin\)", body)


def test_the_time_is_given_in_the_business_time_zone_and_named(business_a, appointment):
    london = tenant_with(business_a, time_zone="Europe/London")
    _subject, sms = rendering.render(message(appointment), tenant=london)
    assert "um 09:00 Uhr (Europe/London)" in sms


@pytest.mark.parametrize("variant", list(texts.DEFAULTS))
def test_every_default_text_is_valid_and_states_the_time_zone(variant):
    for kind, text in texts.DEFAULTS[variant].items():
        for part in (text.sms, text.subject, text.email):
            assert rendering.unknown_placeholders(part) == [], (variant, kind)
            assert not rendering.has_stray_braces(part), (variant, kind)
            used = rendering.used_placeholders(part)
            assert "time" not in used or "time_zone" in used, (variant, kind)
        assert "{time_zone}" in text.sms and "{time_zone}" in text.email, (variant, kind)


def test_a_line_with_only_empty_placeholders_is_left_out(business_a, appointment):
    _subject, email = rendering.render(message(appointment, channel="email"), tenant=business_a.tenant)
    assert "verschieben oder absagen" not in email  # booked by phone: no manage link
    assert "\n\n\n" not in email
    with schema_context(business_a.schema):
        Appointment.objects.filter(pk=appointment.pk).update(manage_token="tok-123")
        appointment.refresh_from_db()
    _subject, email = rendering.render(message(appointment, channel="email"), tenant=business_a.tenant)
    assert "Termin verschieben oder absagen: http" in email
    assert email.split("absagen: ")[1].split("\n")[0].endswith("/book/manage/tok-123/")


def test_the_business_text_replaces_the_default(business_a, appointment):
    MessageTemplate.objects.create(
        kind="reminder",
        channel="sms",
        body="Hi {first_name}! {service} {date} {time} {time_zone} – {business}",
    )
    _subject, sms = rendering.render(message(appointment, "reminder"), tenant=business_a.tenant)
    assert sms.startswith("Hi Lena! Haarschnitt Montag, ")
    assert sms.endswith("10:00 Europe/Berlin – Alpha Salon")
    # Other kinds keep the default.
    assert rendering.render(message(appointment), tenant=business_a.tenant)[1].startswith("Alpha Salon: Ihr")


def test_values_are_never_read_as_placeholders_or_code(business_a, appointment):
    Customer.objects.filter(pk=appointment.customer_id).update(first_name="{phone} {{ 7|add:1 }}")
    appointment.customer.refresh_from_db()
    MessageTemplate.objects.create(kind="confirmation", channel="sms", body="Hallo {first_name}")
    _subject, sms = rendering.render(message(appointment), tenant=business_a.tenant)
    assert sms == "Hallo {phone} {{ 7|add:1 }}"


def test_substitution_is_plain():
    values = dict.fromkeys(rendering.PLACEHOLDERS, "")
    values.update(service="Schnitt", date="Mo", time="10:00", time_zone="Europe/Berlin")
    text = "{service} am {date}\nLink: {manage_link}\n{time} ({time_zone}) {unknown}"
    assert rendering.substitute(text, values) == "Schnitt am Mo\n10:00 (Europe/Berlin) {unknown}"


@pytest.mark.parametrize(
    ("text", "unknown", "stray"),
    [
        ("Hallo {customer}", [], False),
        ("Hallo {kunde} {Customer}", ["Customer", "kunde"], False),
        ("{{ settings.SECRET_KEY }}", [" settings.SECRET_KEY "], True),
        ("{service.__class__}", ["service.__class__"], False),
        ("{customer!r} {time:%H}", ["customer!r", "time:%H"], False),
        ("Preis {", [], True),
        ("}", [], True),
        ("{}", [""], False),
    ],
)
def test_placeholder_checks(text, unknown, stray):
    assert rendering.unknown_placeholders(text) == unknown
    assert rendering.has_stray_braces(text) is stray


def test_saving_a_text(business_a):
    with schema_context(business_a.schema):
        saved = services.message_template_save(
            kind="reminder",
            channel="email",
            subject="Bis morgen",
            body="Hallo {first_name}",
            tenant=business_a.tenant,
            updated_by=None,
        )
        assert saved is not None and MessageTemplate.objects.get().subject == "Bis morgen"
        # The default text itself is no override: the business keeps getting the default.
        subject, body = rendering.default_text(kind="reminder", channel="email", tenant=business_a.tenant)
        assert (
            services.message_template_save(
                kind="reminder",
                channel="email",
                subject=subject,
                body=body,
                tenant=business_a.tenant,
                updated_by=None,
            )
            is None
        )
        assert not MessageTemplate.objects.exists()
        with pytest.raises(InvalidRequest):
            services.message_template_save(
                kind="reminder",
                channel="sms",
                subject="",
                body="Hi {kunde}",
                tenant=business_a.tenant,
                updated_by=None,
            )
        assert not MessageTemplate.objects.exists()
        assert services.message_template_reset(kind="reminder", channel="sms") is False


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("Alpha Salon", "Alpha Salon"),
        ("Müller & Söhne GmbH", "Mueller Soe"),
        ("Café Crème", "Cafe Creme"),
        ("Studio-Ω", "Studio"),
        ("✂✂✂", "Termino"),
    ],
)
def test_default_sender_id(name, sender):
    assert services.default_sender_id(name) == sender


def test_the_sender_id_setting_is_used(business_a):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(id=1, defaults={"sms_sender_id": "AlphaHair"})
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with FakeLox24() as fake, schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
        assert [m["sender_id"] for m in fake.messages] == ["AlphaHair"]
        assert OutboxMessage.objects.get(channel="sms", kind="confirmation").sent_at is not None
