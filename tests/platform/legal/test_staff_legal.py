"""The legal texts in the staff admin (/staff/legal/): the operator's entries, sub-processors and their
changes, each in the audit log; a change e-mails every business owner once, with the date it takes effect;
acceptance of the AV contract shown in the business list and detail."""

from datetime import timedelta

import pytest
from django.core import mail

from termino.platform.legal import services
from termino.platform.legal.models import (
    ChangeNotice,
    DocumentKind,
    DpaAcceptance,
    Operator,
    SubProcessor,
    SubProcessorChange,
)
from termino.platform.legal.tasks import businesses_to_notify, subprocessor_change_fan_out
from termino.platform.staffadmin.models import StaffAction
from termino.platform.tenancy.models import Tenant
from tests.conftest import client_for

from .conftest import current_text, on_commit

pytestmark = pytest.mark.django_db

OPERATOR = {
    "name": "Termino Betrieb GmbH",
    "street": "Musterweg 3",
    "postcode": "10115",
    "city": "Berlin",
    "country": "Deutschland",
    "representative": "",
    "email": "datenschutz@termino.example",
    "phone": "",
    "dpo_status": "none",
    "dpo_name": "",
    "dpo_contact": "",
    "authority_name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
    "authority_address": "",
    "authority_url": "",
    "extra_domains": "termino-app.example",
    "hosting_location": "Frankfurt am Main",
    "backups": "daily",
    "notice_days": "30",
}


def provider(**overrides) -> dict:
    data = {
        "name": "Mailversand AG",
        "address": "Postweg 1, 80331 München",
        "category": "email",
        "purpose": "Sends the e-mails",
        "location": "Germany",
        "safeguards": "",
        "customer_data": "on",
        "effective_on": (services.legal_today() + timedelta(days=30)).isoformat(),
        "reason": "Better delivery",
        "notify": "on",
    }
    data.update(overrides)
    return data


def test_the_page_lists_what_is_missing(staffed):
    _user, client = staffed
    response = client.get("/staff/legal/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "things are still missing from the legal texts" in page
    assert "has not entered its supervisory authority yet" in page


def test_anonymous_and_business_users_cannot_open_it(business_a):
    response = client_for("localhost").get("/staff/legal/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert client_for("localhost").post("/staff/legal/operator/", OPERATOR).status_code == 302
    assert Operator.current().name == ""


def test_saving_the_operator_publishes_new_versions_and_is_audited(staffed):
    user, client = staffed
    before = services.document_current(DocumentKind.DPA).number
    response = client.post("/staff/legal/operator/", OPERATOR)
    assert response.status_code == 302 and response["Location"] == "/staff/legal/"
    operator = Operator.current()
    assert operator.name == "Termino Betrieb GmbH" and operator.updated_by == user.username
    assert services.document_current(DocumentKind.DPA).number == before + 1
    entry = StaffAction.objects.get(staff=user, action="legal_operator")
    assert "name" in entry.details["changed"]
    text = current_text()
    assert "Termino Betrieb GmbH" in text and "termino-app.example" in text
    assert "We have not appointed a data-protection officer." in text


def test_bad_operator_entries_change_nothing(staffed):
    _user, client = staffed
    response = client.post("/staff/legal/operator/", {**OPERATOR, "dpo_status": "appointed", "email": "nope"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please enter the name of the data-protection officer." in page and "Nothing was changed." in page
    assert Operator.current().name == ""


def test_a_new_sub_processor_e_mails_every_owner_once(staffed, business_a, business_b, eager_tasks):
    user, client = staffed
    owners = {t.email for t in businesses_to_notify()}
    assert {business_a.tenant.email, business_b.tenant.email} <= owners
    effective = services.legal_today() + timedelta(days=30)
    with on_commit():
        response = client.post("/staff/legal/subprocessors/", provider(effective_on=effective.isoformat()))
    assert response.status_code == 302, response.content.decode()[:2000]
    change = SubProcessorChange.objects.get(subprocessor__name="Mailversand AG")
    assert change.effective_on == effective and change.businesses == len(owners)
    assert (
        StaffAction.objects.filter(staff=user, action="subprocessor_add", reason="Better delivery").count()
        == 1
    )

    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == owners and len(mail.outbox) == len(owners)  # every owner, once
    german = sent[business_a.tenant.email]  # the business's language is German
    assert "Mailversand AG" in german.subject + german.body
    assert effective.strftime("%-d.") in german.body or effective.strftime("%d.") in german.body
    assert "Unterauftragsverarbeiter" in german.subject and f"{business_a.host}" in german.body
    assert ChangeNotice.objects.filter(change=change).count() == len(owners)

    # A retried fan-out (a worker died, beat ran it twice) sends nothing more.
    subprocessor_change_fan_out(change_id=change.pk)
    assert len(mail.outbox) == len(owners)

    # Annex 1 names it from the day it takes effect, and announces it until then.
    dpa_text = current_text(DocumentKind.DPA)
    assert "Announced changes" in dpa_text and "Mailversand AG" in dpa_text
    assert "Mailversand AG" not in dpa_text.split("Annex 1")[1].split("Announced changes")[0]


def test_the_e_mail_is_in_english_for_an_english_business(staffed, business_a, eager_tasks):
    Tenant.objects.filter(pk=business_a.tenant.pk).update(language="en")
    _user, client = staffed
    with on_commit():
        client.post("/staff/legal/subprocessors/", provider())
    message = next(m for m in mail.outbox if m.to == [business_a.tenant.email])
    assert message.subject.startswith("Change of our sub-processors from")
    assert "If you object to it for a reason related to data protection" in message.body


def test_recording_a_known_provider_without_e_mails(staffed, eager_tasks):
    _user, client = staffed
    with on_commit():
        response = client.post(
            "/staff/legal/subprocessors/",
            provider(notify="", effective_on=services.legal_today().isoformat(), category="hosting"),
        )
    assert response.status_code == 302 and mail.outbox == []
    assert "Mailversand AG" in current_text()


def test_a_change_in_the_past_is_refused(staffed):
    _user, client = staffed
    yesterday = services.legal_today() - timedelta(days=1)
    response = client.post("/staff/legal/subprocessors/", provider(effective_on=yesterday.isoformat()))
    assert response.status_code == 400
    assert "cannot take effect in the past" in response.content.decode()
    assert not SubProcessor.objects.exists()


def test_ending_a_sub_processor_tells_the_owners(staffed, business_a, eager_tasks):
    user, client = staffed
    today = services.legal_today()
    existing = SubProcessor.objects.create(
        name="Old SMS GmbH", category="sms", purpose="SMS", location="DE", active_from=today
    )
    end = services.legal_today() + timedelta(days=31)
    with on_commit():
        response = client.post(
            f"/staff/legal/subprocessors/{existing.pk}/end/",
            {f"end{existing.pk}-effective_on": end.isoformat(), f"end{existing.pk}-notify": "on"},
        )
    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.active_until == end
    assert any("Old SMS GmbH" in m.body for m in mail.outbox if m.to == [business_a.tenant.email])
    assert StaffAction.objects.filter(staff=user, action="subprocessor_end").exists()


def test_acceptance_is_shown_in_the_business_list_and_detail(staffed, business_a):
    _user, client = staffed
    version = services.document_current(DocumentKind.DPA)
    listing = client.get("/staff/", {"q": business_a.tenant.slug}).content.decode()
    assert "not accepted" in listing
    DpaAcceptance.objects.create(
        tenant=business_a.tenant,
        version=version,
        accepted_at=version.published_at,
        user_id=1,
        username=business_a.owner_username,
        user_name="Erika Mustermann",
    )
    listing = client.get("/staff/", {"q": business_a.tenant.slug}).content.decode()
    assert f"version {version.number}" in listing
    detail = client.get(f"/staff/businesses/{business_a.tenant.pk}/").content.decode()
    assert "Erika Mustermann" in detail and business_a.owner_username in detail
