"""The demo business's privacy notice on its booking page: generated from its settings (the business as
controller, the platform as processor, its messages and retention rules, how customers use their rights),
in step with them until the business writes its own text, every version customers accepted kept."""

from django_tenants.utils import schema_context

from termino.platform.legal.models import Operator
from termino.tenants.business.models import BusinessSettings
from termino.tenants.compliance.models import NoticeAcceptance, NoticeVersion
from termino.tenants.crm.models import Consent
from termino.tenants.retention.models import RetentionPolicy
from termino.tenants.scheduling.models import Service
from tests.conftest import client_for
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday

from .conftest import log_in


def booking_page(business, language="en") -> str:
    return client_for(business.host, language).get("/book/").content.decode()


def test_the_booking_page_shows_the_generated_notice(demo_business):
    Operator.objects.update_or_create(id=1, defaults={"name": "Termino Betrieb GmbH"})
    try:
        page = booking_page(demo_business)
        for expected in (
            "Privacy notice of Salon Sonnenschein",
            "Kastanienallee 12",  # the business is the controller
            "Termino Betrieb GmbH",  # the platform is its processor
            "reminders 24 hours, 2 hours before the appointment",
            "never between 21:00 and 08:00",
            "are erased",  # its retention rules
            "the link “Your data” at the foot of the booking page",
            "/datenschutz/",
        ):
            assert expected in page, expected
        german = booking_page(demo_business, "de")
        assert "Datenschutzerklärung von Salon Sonnenschein" in german and "Ihre Daten" in german
    finally:
        Operator.objects.filter(id=1).update(name="")


def test_the_owner_accepts_it_and_it_follows_the_settings_until_written_by_hand(demo_business):
    owner = log_in(demo_business)
    page = owner.get("/settings/legal/").content.decode()
    assert "Please read the notice generated from your settings and accept it" in page
    version = page.split('name="version" value="')[1].split('"')[0]
    assert version.startswith("auto-")
    response = owner.post("/settings/legal/notice/", {"action": "accept", "version": version})
    assert response.status_code == 302
    with schema_context(demo_business.schema):
        acceptance = NoticeAcceptance.objects.get()
        assert acceptance.version == version and acceptance.username == demo_business.owner_username
        assert NoticeVersion.objects.filter(version=version, generated=True).exists()
    assert (
        "Generated from your settings and accepted by Anna Schmidt"
        in owner.get("/settings/legal/").content.decode()
    )

    # A customer books: the consent names the version they were shown.
    with schema_context(demo_business.schema):
        service = Service.objects.filter(bookable_online=True).first()
    created = public_post(demo_business.host, "bookings/", booking_body(service, next_monday()))
    assert created.status_code == 201, created.json()
    with schema_context(demo_business.schema):
        assert set(Consent.objects.values_list("policy_version", flat=True)) == {version}

    # The business changes a retention rule: the notice follows and is a new version to accept.
    with schema_context(demo_business.schema):
        RetentionPolicy.objects.update_or_create(id=1, defaults={"message_text_days": 30})
    assert "deleted after 30 days" in booking_page(demo_business)
    page = owner.get("/settings/legal/").content.decode()
    assert "Your settings changed the generated notice since it was last accepted" in page
    assert page.split('name="version" value="')[1].split('"')[0] != version

    # Written by hand: the business's own text, which no longer follows its settings, and says so.
    editing = owner.get("/settings/legal/?edit=1").content.decode()
    assert (
        "Privacy notice of Salon Sonnenschein" in editing and "deleted after 30 days" in editing
    )  # prefilled
    own = "Salon Sonnenschein speichert Ihre Angaben nur für Ihren Termin."
    assert owner.post("/settings/legal/", {"impressum": "", "privacy_notice": own}).status_code == 302
    assert own in booking_page(demo_business)
    assert "Privacy notice of Salon Sonnenschein" not in booking_page(demo_business)
    page = owner.get("/settings/legal/").content.decode()
    assert "It no longer follows your settings" in page
    with schema_context(demo_business.schema):
        numbered = BusinessSettings.current().privacy_policy_version
        RetentionPolicy.objects.update_or_create(id=1, defaults={"message_text_days": 60})
    assert own in booking_page(demo_business) and "60 days" not in booking_page(demo_business)

    # And back to the generated notice.
    assert owner.post("/settings/legal/notice/", {"action": "generated"}).status_code == 302
    assert "deleted after 60 days" in booking_page(demo_business)
    with schema_context(demo_business.schema):
        assert BusinessSettings.current().privacy_notice == ""
        assert BusinessSettings.current().privacy_policy_version != numbered


def test_accepting_a_notice_that_changed_meanwhile_is_refused(demo_business):
    owner = log_in(demo_business)
    response = owner.post(
        "/settings/legal/notice/", {"action": "accept", "version": "auto-000000000000"}, follow=True
    )
    assert "changed the generated notice while you were reading" in response.content.decode()
    with schema_context(demo_business.schema):
        assert not NoticeAcceptance.objects.exists()


def test_staff_members_cannot_accept_or_switch(demo_business):
    staff = log_in(demo_business, "jonas@demo.example")
    assert staff.post("/settings/legal/notice/", {"action": "generated"}).status_code == 403
    assert staff.get("/settings/legal/").status_code == 403


def test_the_notice_reads_its_inputs_once_for_both_languages(demo_business):
    """Its version hashes the German and the English text: built from one reading of the settings,
    retention rules, operator and sub-processors, each the same as when built on its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from termino.tenants.compliance import documents
    from termino.tenants.compliance.services import booking_notice_current

    tenant = demo_business.tenant
    with schema_context(tenant.schema_name):
        rules = BusinessSettings.current()
        with CaptureQueriesContext(connection) as queries:
            notice = booking_notice_current(tenant, rules)
        tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if " FROM " in q["sql"]]
        assert sorted(tables) == sorted(set(tables)), tables  # nothing read twice
        assert not any("businesssettings" in table for table in tables)  # the caller's settings serve
        assert set(notice.built) == {"de", "en"}
        for language, document in notice.built.items():
            assert document.to_json() == documents.booking_notice(language, tenant).to_json()
