"""Message settings (reminders, quiet hours, sender, texts with preview) and the message log with resend."""

import pytest
from django_tenants.utils import schema_context

from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent
from termino.tenants.notifications import services
from termino.tenants.notifications.models import MessageTemplate, OutboxMessage
from tests.conftest import client_for
from tests.fakes.lox24 import FakeLox24
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db

PAGES = [
    "/settings/messages/",
    "/settings/messages/confirmation/sms/",
    "/settings/messages/reminder/email/",
    "/settings/outbox/",
]


@pytest.fixture
def owner(business_a):
    return log_in_as(business_a, "owner")


@pytest.fixture
def sent(business_a):
    """A widget booking whose two confirmations went out (reminders still queued)."""
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
        BusinessSettings.objects.update_or_create(
            id=1,
            defaults={"team_notice_email": False},
            # Customer messages only (the team's: test_team_notices.py).
        )
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with FakeLox24() as fake, schema_context(business_a.schema):
        services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
        return {m.channel: m for m in OutboxMessage.objects.filter(kind="confirmation")}


def current_rules(business) -> BusinessSettings:
    with schema_context(business.schema):
        return BusinessSettings.current()


def templates(business) -> list:
    with schema_context(business.schema):
        return list(MessageTemplate.objects.values_list("kind", "channel", "subject", "body"))


def outbox(business) -> list:
    with schema_context(business.schema):
        return list(OutboxMessage.objects.order_by("pk").values_list("pk", "idempotency_key", "status"))


# --- access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_owner_and_manager_see_the_pages(business_a, owner, path):
    assert owner.get(path).status_code == 200
    assert log_in_as(business_a, "manager").get(path).status_code == 200


@pytest.mark.parametrize(
    "path", [*PAGES, "/settings/messages/confirmation/sms/preview/", "/settings/outbox/1/resend/"]
)
def test_staff_may_not(business_a, sent, path):
    staff = log_in_as(business_a, "staff")
    assert staff.get(path).status_code == 403
    assert staff.post(path, {"body": "Hallo"}).status_code == 403
    assert templates(business_a) == [] and not any(
        key.startswith("resend") for _pk, key, _s in outbox(business_a)
    )


def test_a_session_of_another_business_is_sent_to_the_login(business_a, business_b, sent):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b, "owner").cookies
    before = outbox(business_a)
    for path in ["/settings/outbox/", f"/settings/outbox/{sent['sms'].pk}/resend/"]:
        response = stolen.post(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = stolen.post("/settings/messages/reminder/sms/", {"body": "Gekapert"})
    assert response.status_code == 302 and templates(business_a) == []
    assert outbox(business_a) == before


def test_ids_of_another_business_are_unknown_here(business_a, business_b, sent):
    before_a, before_b = outbox(business_a), outbox(business_b)
    response = log_in_as(business_b, "owner").post(f"/settings/outbox/{sent['sms'].pk}/resend/")
    assert response.status_code == 404
    assert outbox(business_a) == before_a and outbox(business_b) == before_b


# --- reminders, quiet hours, sender --------------------------------------------------------------------


def settings_data(**overrides) -> dict:
    data = {
        "reminder_1": "48",
        "reminder_2": "3",
        "reminder_3": "",
        "quiet_hours_start": "22",
        "quiet_hours_end": "7",
        "sms_sender_id": "Alpha Hair",
    }
    data.update(overrides)
    return data


def test_message_settings_show_the_current_values(owner):
    page = owner.get("/settings/messages/").content.decode()
    assert 'name="reminder_1" id="id_reminder_1" value="24"' in page
    assert 'name="reminder_2" id="id_reminder_2" value="2"' in page
    assert "“Alpha Salon”" in page  # the sender derived from the company name


def test_message_settings_are_saved(business_a, owner):
    response = owner.post(
        "/settings/messages/", settings_data(reminder_1="3", reminder_2="", reminder_3="48")
    )
    assert response.status_code == 302
    saved = current_rules(business_a)
    assert saved.reminder_hours == "48,3" and saved.reminder_leads == [48, 3]
    assert (saved.quiet_hours_start, saved.quiet_hours_end, saved.sms_sender_id) == (22, 7, "Alpha Hair")
    owner.post(
        "/settings/messages/", settings_data(reminder_1="", reminder_2="", sms_sender_id="+49 30 1234567")
    )
    saved = current_rules(business_a)
    assert saved.reminder_hours == "" and saved.sms_sender_id == "+49301234567"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"reminder_1": "337"}, "less than or equal to 336"),
        ({"reminder_1": "0"}, "greater than or equal to 1"),
        ({"reminder_1": "zwei"}, "whole number"),
        ({"reminder_2": "48"}, "different time"),
        ({"quiet_hours_start": "24"}, "valid choice"),
        ({"sms_sender_id": "Müller Salon"}, "without umlauts"),
        ({"sms_sender_id": "Alpha Salon Berlin"}, "without umlauts"),
        ({"sms_sender_id": "Alpha-Salon"}, "without umlauts"),
        ({"sms_sender_id": "+4930123456789012"}, "without umlauts"),
    ],
)
def test_bad_message_settings_store_nothing(business_a, owner, bad, message):
    response = owner.post("/settings/messages/", settings_data(**bad))
    assert response.status_code == 400 and message in response.content.decode()
    saved = current_rules(business_a)
    assert (saved.reminder_hours, saved.quiet_hours_start, saved.sms_sender_id) == ("24,2", 21, "")


# --- message texts --------------------------------------------------------------------------------------


def test_texts_overview_shows_every_kind_and_channel_with_a_preview(owner):
    page = owner.get("/settings/messages/").content.decode()
    for kind in ("confirmation", "change", "cancellation", "reminder"):
        for channel in ("sms", "email"):
            assert f'href="/settings/messages/{kind}/{channel}/"' in page
    assert "Alpha Salon: Ihr Termin (Haarschnitt) am Montag" in page and "(Europe/Berlin)" in page
    assert "SMS parts: 1" in page


def test_editing_a_text_starts_from_the_default(owner):
    page = owner.get("/settings/messages/reminder/email/").content.decode()
    assert 'value="Erinnerung: Ihr Termin bei {business}"' in page
    assert "Guten Tag {customer}," in page and 'data-insert="{manage_link}"' in page


def test_unknown_kind_or_channel_is_404(owner):
    assert owner.get("/settings/messages/birthday/sms/").status_code == 404
    assert owner.get("/settings/messages/reminder/fax/").status_code == 404


def test_an_own_text_is_saved_and_used(business_a, owner, sent):
    body = "Hallo {first_name}, bis {date} um {time} Uhr ({time_zone})! {business}"
    response = owner.post("/settings/messages/reminder/sms/", {"action": "save", "body": body})
    assert response.status_code == 302 and response["Location"] == "/settings/messages/#texts"
    assert templates(business_a) == [("reminder", "sms", "", body)]
    page = owner.get("/settings/messages/").content.decode()
    assert "Hallo Lena, bis Montag" in page and "Your text" in page
    # The default again: back to the default.
    response = owner.post("/settings/messages/reminder/sms/", {"action": "reset"})
    assert response.status_code == 302 and templates(business_a) == []


def test_an_email_text_needs_a_one_line_subject(business_a, owner):
    url = "/settings/messages/confirmation/email/"
    assert owner.post(url, {"subject": "", "body": "Hallo"}).status_code == 400
    assert owner.post(url, {"subject": "Hallo\nBcc: x@example.com", "body": "Hallo"}).status_code == 400
    assert (
        owner.post(url, {"subject": "Gebucht bei {business}", "body": "Hallo {customer}"}).status_code == 302
    )
    assert templates(business_a) == [("confirmation", "email", "Gebucht bei {business}", "Hallo {customer}")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hallo {kunde}, bis {date}", "unknown placeholder {kunde}"),
        ("{{ request.tenant.owner_name }}", "without its partner"),
        ("{% debug %}", "unknown placeholder {% debug %}"),
        ("Preis: 30 { Euro", "without its partner"),
        ("{customer.__class__}", "unknown placeholder {customer.__class__}"),
        ("Bis {date} um {time}", "also give {time_zone}"),
        ("", "This field is required"),
        ("x" * 801, "at most 800 characters"),
    ],
)
def test_bad_texts_are_rejected_with_a_clear_message(business_a, owner, body, message):
    response = owner.post("/settings/messages/reminder/sms/", {"body": body})
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert templates(business_a) == []


def test_saving_the_default_text_keeps_the_default(business_a, owner):
    page = owner.get("/settings/messages/cancellation/sms/").content.decode()
    default = page.split('name="body"')[1].split(">", 1)[1].split("</textarea>")[0]
    response = owner.post("/settings/messages/cancellation/sms/", {"body": default.replace("&#x27;", "'")})
    assert response.status_code == 302 and templates(business_a) == []


def test_live_preview(owner):
    url = "/settings/messages/reminder/sms/preview/"
    response = owner.post(url, {"body": "Hi {first_name}: {service} {date} {time} ({time_zone})"})
    assert response.status_code == 200
    data = response.json()
    assert data["body"].startswith("Hi Lena: Haarschnitt Montag, ") and data["body"].endswith(
        "(Europe/Berlin)"
    )
    assert (data["encoding"], data["segments"], data["errors"]) == ("gsm7", 1, [])
    # An emoji makes it UCS-2; 160 GSM characters need two parts.
    assert owner.post(url, {"body": "{first_name} 🙂"}).json()["encoding"] == "ucs2"
    long = owner.post(url, {"body": "{service} " + "a" * 160}).json()
    assert (long["chars"], long["segments"]) == (172, 2)
    response = owner.post("/settings/messages/reminder/email/preview/", {"subject": "{oops}", "body": "x"})
    assert response.status_code == 400 and "{oops}" in response.json()["errors"][0]


# --- message log ----------------------------------------------------------------------------------------


def test_the_log_lists_messages_with_status_and_text(owner, sent):
    page = owner.get("/settings/outbox/").content.decode()
    assert "lena.fischer@example.com" in page and "+491701234567" in page
    assert page.count('action="/settings/outbox/') == 2  # resend for the two sent confirmations only
    assert "Show text" in page and "Haarschnitt" in page
    assert "The text is written when it is sent." in page  # the queued reminders


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("status=sent", 2),
        ("status=queued", 4),
        ("channel=sms", 3),
        ("kind=reminder&channel=email", 2),
        ("status=failed", 0),
        ("date_from=2000-01-01&date_to=2000-01-02", 0),
        ("status=nonsense", 6),  # an invalid filter is ignored
    ],
)
def test_the_log_filters(owner, sent, query, count):
    page = owner.get(f"/settings/outbox/?{query}").content.decode()
    assert page.count('<td data-label="Time">') == count


def test_resend_from_the_log(business_a, owner, sent):
    original = sent["sms"]
    response = owner.post(
        f"/settings/outbox/{original.pk}/resend/", {"next": "/settings/outbox/?channel=sms"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/settings/outbox/?channel=sms"
    assert "Queued again for +491701234567" in response.content.decode()
    with schema_context(business_a.schema):
        resend = OutboxMessage.objects.get(resend_of=original)
        assert resend.idempotency_key == f"resend:{original.pk}:1" and resend.status == "queued"
        original.refresh_from_db()
        assert original.status == "sent" and original.provider_message_id


def test_resend_goes_back_only_to_the_log(owner, sent):
    response = owner.post(f"/settings/outbox/{sent['email'].pk}/resend/", {"next": "https://evil.example/"})
    assert response["Location"] == "/settings/outbox/"


def test_resend_refused_without_consent(business_a, owner, sent):
    with schema_context(business_a.schema):
        Consent.objects.create(
            customer=sent["sms"].customer, kind="sms_reminders", granted=False, source="test"
        )
    before = outbox(business_a)
    response = owner.post(f"/settings/outbox/{sent['sms'].pk}/resend/", follow=True)
    assert "withdrawn, their consent to SMS" in response.content.decode()
    assert outbox(business_a) == before
