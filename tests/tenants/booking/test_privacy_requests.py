"""“Your data” on the booking page: a customer's request, confirmed by e-mail, answered the same for
known and unknown addresses, rate-limited, and carried out by the team."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.tenancy.routing import primary_url
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Consent, Customer, CustomerNote
from termino.tenants.privacy.models import PersonalDataEvent, PrivacyRequest
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.privacy.factories import full_customer

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/book/privacy/([\w-]+)/")


@pytest.fixture
def anna(business_a):
    with schema_context(business_a.schema):
        return full_customer()


def ask(business, email="anna@example.com", kind="access", ip="198.51.100.7"):
    return client_for(business.host, "en").post(
        "/book/privacy/", {"email": email, "kind": kind}, REMOTE_ADDR=ip
    )


def token_from(message) -> str:
    return LINK.search(message.body)[1]


def requests_of(business):
    with schema_context(business.schema):
        return list(PrivacyRequest.objects.order_by("id"))


# --- The form ------------------------------------------------------------------------------------------


def test_booking_page_footer_links_to_the_form(business_a):
    client = client_for(business_a.host, "en")
    assert 'href="/book/privacy/"' in client.get("/book/").content.decode()
    html = client.get("/book/privacy/").content.decode()
    assert 'name="email"' in html and 'value="erasure"' in html and "Your data" in html


def test_same_answer_for_known_and_unknown_addresses_and_mail_only_for_known(business_a, anna, mailoutbox):
    known = ask(business_a, "Anna@Example.com")
    unknown = ask(business_a, "nobody@example.com", ip="198.51.100.8")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/book/privacy/sent/"
    sent = client_for(business_a.host, "en").get("/book/privacy/sent/").content.decode()
    assert "If we know this e-mail address" in sent
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["anna@example.com"]
    assert [(r.email, r.kind, r.status) for r in requests_of(business_a)] == [
        ("anna@example.com", "access", "pending")
    ]


def test_the_mail_carries_a_link_from_the_business_domain_valid_24_hours(business_a, anna, mailoutbox):
    ask(business_a)
    message = mailoutbox[0]
    token = token_from(message)
    assert primary_url(business_a.tenant, f"/book/privacy/{token}/") in message.body
    assert business_a.tenant.name in message.subject
    (row,) = requests_of(business_a)
    assert row.token_hash == PrivacyRequest.hash_token(token) and token not in row.token_hash
    assert timedelta(hours=23, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=24)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "kind": "access"}, "Please enter your e-mail address."),
        ({"email": "not-an-address", "kind": "access"}, "Please enter a valid e-mail address."),
        ({"email": "anna@example.com", "kind": "everything"}, "Select a valid choice."),
        ({"email": "anna@example.com"}, "Please choose what you would like us to do."),
    ],
)
def test_invalid_input_is_400_and_nothing_happens(business_a, anna, mailoutbox, data, message):
    response = client_for(business_a.host, "en").post("/book/privacy/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert mailoutbox == [] and requests_of(business_a) == []


# --- The link ------------------------------------------------------------------------------------------


def test_the_link_confirms_once_and_offers_the_download(business_a, anna, mailoutbox):
    ask(business_a)
    token = token_from(mailoutbox[0])
    client = client_for(business_a.host, "en")
    # Opening the link (as a mail scanner would) confirms nothing.
    page = client.get(f"/book/privacy/{token}/")
    assert page.status_code == 200 and "Yes, this request is from me" in page.content.decode()
    assert requests_of(business_a)[0].status == "pending"
    assert client.get(f"/book/privacy/{token}/export.json").status_code == 404

    page = client.post(f"/book/privacy/{token}/")
    assert "your request is confirmed" in page.content.decode()
    (row,) = requests_of(business_a)
    assert row.status == "verified" and row.verified_at is not None
    again = client.post(f"/book/privacy/{token}/")
    assert "already been confirmed" in again.content.decode()
    assert requests_of(business_a)[0].verified_at == row.verified_at
    with schema_context(business_a.schema):
        verified = list(PersonalDataEvent.objects.filter(action="request_verified"))
    assert len(verified) == 1 and verified[0].customer_id == anna.pk

    response = client.get(f"/book/privacy/{token}/export.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    (mine,) = data["customers"]
    assert mine["customer"]["email"] == "anna@example.com" and len(mine["appointments"]) == 2
    assert requests_of(business_a)[0].status == "completed"
    with schema_context(business_a.schema):
        export = PersonalDataEvent.objects.get(action="export")
    assert export.actor_id is None and export.actor_label.startswith("customer")


def test_an_expired_link_is_refused(business_a, anna, mailoutbox):
    ask(business_a)
    token = token_from(mailoutbox[0])
    with schema_context(business_a.schema):
        PrivacyRequest.objects.update(
            created_at=timezone.now() - timedelta(hours=25), expires_at=timezone.now() - timedelta(hours=1)
        )
    client = client_for(business_a.host, "en")
    response = client.post(f"/book/privacy/{token}/")
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert requests_of(business_a)[0].status == "pending"


def test_a_confirmed_access_link_stops_offering_the_download_when_it_expires(business_a, anna, mailoutbox):
    ask(business_a)
    token = token_from(mailoutbox[0])
    client = client_for(business_a.host, "en")
    client.post(f"/book/privacy/{token}/")
    with schema_context(business_a.schema):
        PrivacyRequest.objects.update(
            created_at=timezone.now() - timedelta(hours=25), expires_at=timezone.now() - timedelta(hours=1)
        )
    assert client.get(f"/book/privacy/{token}/export.json").status_code == 410
    assert "Download my data" not in client.get(f"/book/privacy/{token}/").content.decode()


def test_unknown_tokens_and_other_businesses_tokens_are_404(business_a, business_b, anna, mailoutbox):
    ask(business_a)
    token = token_from(mailoutbox[0])
    assert client_for(business_a.host).get("/book/privacy/" + "x" * 43 + "/").status_code == 404
    at_b = client_for(business_b.host)
    assert at_b.get(f"/book/privacy/{token}/").status_code == 404
    assert at_b.post(f"/book/privacy/{token}/").status_code == 404
    assert at_b.get(f"/book/privacy/{token}/export.json").status_code == 404
    assert requests_of(business_a)[0].status == "pending"


# --- Rate limits ---------------------------------------------------------------------------------------


def test_rate_limit_per_ip(business_a, anna, mailoutbox):
    for n in range(5):
        assert ask(business_a, f"someone{n}@example.com").status_code == 302
    response = ask(business_a, "anna@example.com")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert "Too many requests" in response.content.decode()
    assert mailoutbox == []
    assert ask(business_a, "anna@example.com", ip="198.51.100.99").status_code == 302  # another address


def test_rate_limit_per_email_address(business_a, anna, mailoutbox):
    for n in range(5):
        assert ask(business_a, ip=f"198.51.100.{n + 10}").status_code == 302
    response = ask(business_a, "ANNA@example.com", ip="198.51.100.50")
    assert response.status_code == 429
    assert len(mailoutbox) == 5 and len(requests_of(business_a)) == 5


# --- The team carries requests out ---------------------------------------------------------------------


def confirmed(business, mailoutbox, kind: str) -> PrivacyRequest:
    ask(business, kind=kind)
    token = token_from(mailoutbox[-1])
    client_for(business.host).post(f"/book/privacy/{token}/")
    return requests_of(business)[-1]


def test_requests_page_lists_confirmed_requests_with_their_customers(business_a, anna, mailoutbox):
    row = confirmed(business_a, mailoutbox, "erasure")
    ask(business_a, kind="objection")  # not confirmed
    client = log_in_as(business_a, "manager")
    html = client.get("/privacy/requests/").content.decode()
    assert f'id="request-{row.pk}"' in html and "Müller" in html and 'value="erase"' in html
    assert "Not confirmed yet (1)" in html
    pending = client.get("/privacy/requests/", {"tab": "pending"}).content.decode()
    assert 'value="erase"' not in pending and "anna@example.com" in pending


def test_team_sends_the_export_by_mail(business_a, anna, mailoutbox):
    row = confirmed(business_a, mailoutbox, "access")
    client = log_in_as(business_a, "manager")
    response = client.post(f"/privacy/requests/{row.pk}/", {"action": "send_export"})
    assert response.status_code == 302
    message = mailoutbox[-1]
    assert message.to == ["anna@example.com"]
    (filename, content, mimetype) = message.attachments[0]
    assert filename.endswith(".json") and mimetype == "application/json"
    assert json.loads(content)["customers"][0]["customer"]["last_name"] == "Müller"
    row = requests_of(business_a)[-1]
    assert row.status == "completed" and row.handled_by is not None and "e-mail" in row.outcome
    # Done is done: a second click changes nothing.
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "send_export"}).status_code == 400


def test_team_downloads_the_export_of_a_confirmed_request_only(business_a, anna, mailoutbox):
    ask(business_a)
    pending = requests_of(business_a)[-1]
    client = log_in_as(business_a, "manager")
    assert client.get(f"/privacy/requests/{pending.pk}/export.json").status_code == 404
    row = confirmed(business_a, mailoutbox, "access")
    response = client.get(f"/privacy/requests/{row.pk}/export.json")
    assert (
        response.status_code == 200
        and json.loads(response.content)["customers"][0]["customer"]["id"] == anna.pk
    )


def test_team_erases_on_request(business_a, anna, mailoutbox):
    row = confirmed(business_a, mailoutbox, "erasure")
    client = log_in_as(business_a, "manager")
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "erase"}).status_code == 302
    with schema_context(business_a.schema):
        assert not Customer.objects.filter(pk=anna.pk).exists()
        assert Appointment.objects.filter(customer__isnull=True).count() == 2
    assert requests_of(business_a)[-1].status == "completed"


def test_team_restricts_and_records_objection_on_request(business_a, anna, mailoutbox):
    client = log_in_as(business_a, "owner")
    row = confirmed(business_a, mailoutbox, "restriction")
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "restrict"}).status_code == 302
    row = confirmed(business_a, mailoutbox, "objection")
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "object"}).status_code == 302
    with schema_context(business_a.schema):
        assert Customer.objects.get(pk=anna.pk).processing_restricted
        objection = Consent.objects.filter(customer=anna, kind="marketing").latest("recorded_at", "id")
    assert (objection.granted, objection.source) == (False, "privacy_request")


def test_wrong_actions_are_refused(business_a, anna, mailoutbox):
    row = confirmed(business_a, mailoutbox, "objection")
    client = log_in_as(business_a, "manager")
    for action in ("erase", "send_export", "nonsense"):
        assert client.post(f"/privacy/requests/{row.pk}/", {"action": action}).status_code == 400
    with schema_context(business_a.schema):
        assert Customer.objects.filter(pk=anna.pk).exists()
    assert requests_of(business_a)[-1].status == "verified"
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "decline"}).status_code == 302
    assert requests_of(business_a)[-1].status == "declined"


def test_requests_of_another_business_are_not_found(business_a, business_b, anna, mailoutbox):
    row = confirmed(business_a, mailoutbox, "erasure")
    at_b = log_in_as(business_b)
    assert at_b.post(f"/privacy/requests/{row.pk}/", {"action": "erase"}).status_code == 404
    assert at_b.get(f"/privacy/requests/{row.pk}/export.json").status_code == 404
    assert "anna@example.com" not in at_b.get("/privacy/requests/").content.decode()
    with schema_context(business_a.schema):
        assert Customer.objects.filter(pk=anna.pk).exists()


# --- Only to the address on record ---------------------------------------------------------------------


def answer(response) -> tuple:
    """All a visitor learns from the form's answer (what the browser gets, mails aside)."""
    return (
        response.status_code,
        response.get("Location"),
        sorted(response.cookies.keys()),
        response.content,
    )


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_answer_says_nothing_about_who_is_a_customer(business_a, anna, mailoutbox, language):
    with schema_context(business_a.schema):
        # Known only by phone or name elsewhere: still unknown as an address.
        Customer.objects.create(last_name="Müller", first_name="Anna", phone="+491712345678")
    client = client_for(business_a.host, language)
    answers = [
        answer(
            client.post("/book/privacy/", {"email": email, "kind": "access"}, REMOTE_ADDR=f"198.51.100.{n}")
        )
        for n, email in enumerate(("anna@example.com", "stranger@example.com", "ANNA@example.org"))
    ]
    assert answers[0] == answers[1] == answers[2]
    sent = client.get(answers[0][1])
    text = sent.content.decode()
    assert sent.status_code == 200
    assert ("If we know this e-mail address" if language == "en" else "Wenn uns diese E-Mail-Adresse") in text
    assert [m.to for m in mailoutbox] == [["anna@example.com"]]


def test_the_export_holds_only_the_entries_with_the_confirmed_address(business_a, anna, mailoutbox):
    """Entries sharing Anna's phone number or name are not hers to see: only the address proves it."""
    with schema_context(business_a.schema):
        by_phone = Customer.objects.create(last_name="Nachbar", email="nachbar@example.com", phone=anna.phone)
        by_name = Customer.objects.create(first_name="Anna", last_name="Müller", email="andere@example.com")
        no_mail = Customer.objects.create(first_name="Anna", last_name="Müller", phone=anna.phone)
        second = Customer.objects.create(last_name="Müller", email="anna@example.com")  # her second entry
    confirmed(business_a, mailoutbox, "access")
    token = token_from(mailoutbox[-1])
    data = json.loads(client_for(business_a.host).get(f"/book/privacy/{token}/export.json").content)
    assert [c["customer"]["id"] for c in data["customers"]] == [anna.pk, second.pk]
    assert "nachbar" not in json.dumps(data).lower() and "andere@" not in json.dumps(data)
    row = confirmed(business_a, mailoutbox, "access")  # asked again, this time sent by the team
    client = log_in_as(business_a, "manager")
    assert client.post(f"/privacy/requests/{row.pk}/", {"action": "send_export"}).status_code == 302
    mailed = json.loads(mailoutbox[-1].attachments[0][1])
    assert mailoutbox[-1].to == ["anna@example.com"]
    assert [c["customer"]["id"] for c in mailed["customers"]] == [anna.pk, second.pk]
    with schema_context(business_a.schema):
        exported = set(
            PersonalDataEvent.objects.filter(action="export").values_list("customer_id", flat=True)
        )
    assert exported == {anna.pk, second.pk} and not exported & {by_phone.pk, by_name.pk, no_mail.pk}


def test_the_export_holds_the_teams_notes_and_when_data_was_processed_but_not_who_of_the_team(
    business_a, anna, mailoutbox
):
    manager = log_in_as(business_a, "manager")
    manager.get(f"/customers/{anna.pk}/")  # viewed by the team: in the log, without the name
    with schema_context(business_a.schema):
        author = get_user_model().objects.get(role="manager")
        CustomerNote.objects.create(customer=anna, author=author, text="Zahlt immer bar.")
        other = Customer.objects.create(last_name="Doppelt", email="doppelt@example.com", phone=anna.phone)
        crm.duplicate_suspicions_record(customer=other, others=[(anna, "phone")])
    confirmed(business_a, mailoutbox, "access")
    token = token_from(mailoutbox[-1])
    response = client_for(business_a.host).get(f"/book/privacy/{token}/export.json")
    (mine,) = json.loads(response.content)["customers"]
    assert "Zahlt immer bar." in [n["text"] for n in mine["notes"]]
    assert mine["customer"]["notes"] == "Allergisch gegen Ammoniak."
    log = mine["processing_log"]
    assert [(e["action"], e["by"]) for e in log] == [("view", "business"), ("request_verified", "customer")]
    text = response.content.decode()
    for internal in (author.username, author.email, "Doppelt", "198.51.100"):
        assert internal not in text
