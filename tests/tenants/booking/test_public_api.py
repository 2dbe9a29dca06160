from datetime import UTC, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from termino.tenants.compliance.models import NoticeVersion
from termino.tenants.crm.models import Consent, Customer
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.scheduling.models import Appointment, WeeklyHours
from tests.conftest import client_for
from tests.tenants.scheduling.factories import next_monday, salon

from .public_helpers import aged_form_token, booking_body, public_post

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def shop(business_a):
    with schema_context(business_a.schema):
        service, staff, _room = salon()
    return business_a, service, staff


def book(business, body, **headers):
    return public_post(business.host, "bookings/", body, **headers)


def test_services_list_what_can_be_booked_and_sets_no_cookie(shop):
    business, service, staff = shop
    with schema_context(business.schema):
        hidden = type(service).objects.create(name="Intern", duration_minutes=10, bookable_online=False)
    response = client_for(business.host).get("/api/public/v1/services/")
    assert response.status_code == 200
    data = response.json()
    assert [s["name"] for s in data["services"]] == ["Haarschnitt"]
    assert {s["id"] for s in data["services"][0]["staff"]} == {s.pk for s in staff}
    assert data["business"]["name"] == business.tenant.name and data["form_token"]
    assert hidden.pk not in [s["id"] for s in data["services"]]
    assert not response.cookies


def test_public_availability_uses_the_same_slot_format(shop):
    business, service, _ = shop
    day = next_monday().date().isoformat()
    slots = client_for(business.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    )
    assert slots.status_code == 200 and slots.json()["slots"][0]["start"].startswith(f"{day}T09:00:00+0")


def test_booking_creates_customer_consents_confirmation_and_manage_link(shop):
    business, service, _ = shop
    start = next_monday()
    response = book(business, booking_body(service, start, note="Bitte kurz"))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "confirmed"
    assert data["manage_url"] == f"http://{business.host}:8000/book/manage/{data['manage_token']}/"
    with schema_context(business.schema):
        customer = Customer.objects.get()
        assert (customer.email, customer.phone) == ("lena.fischer@example.com", "+491701234567")
        kinds = set(
            Consent.objects.filter(customer=customer).values_list("kind", "granted", "policy_version")
        )
        # The business wrote no notice of its own: the generated one, archived under its digest.
        version = NoticeVersion.objects.get().version
        assert version.startswith("auto-")
        assert kinds == {("privacy", True, version), ("sms_reminders", True, version)}
        messages = set(
            OutboxMessage.objects.filter(kind="confirmation").values_list(
                "channel", "kind", "recipient", "status"
            )
        )
        assert messages == {
            ("email", "confirmation", "lena.fischer@example.com", "queued"),
            ("sms", "confirmation", "+491701234567", "queued"),
        }
        appointment = Appointment.objects.get()
        assert appointment.source == "widget" and appointment.notes == "Bitte kurz"


def test_returning_customer_is_found_by_email_and_no_sms_without_consent(shop):
    business, service, _ = shop
    start = next_monday()
    assert book(business, booking_body(service, start)).status_code == 201
    second = booking_body(
        service, start + timedelta(hours=2), email="LENA.fischer@example.com", sms_consent=False
    )
    assert book(business, second).status_code == 201
    with schema_context(business.schema):
        assert Customer.objects.count() == 1
        assert (
            OutboxMessage.objects.filter(channel="sms", kind="confirmation").count() == 1
        )  # only the first booking's


def test_approval_required_makes_a_request(shop):
    business, service, _ = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"approval_required": True})
    assert book(business, booking_body(service, next_monday())).json()["status"] == "requested"


def test_time_outside_the_offer_is_409_with_the_nearest_free_slots(shop):
    business, service, _ = shop
    evening = next_monday().replace(hour=20)
    response = book(business, booking_body(service, evening))
    assert response.status_code == 409
    nearest = response.json()["nearest"]
    assert len(nearest) == 3 and all("T17:" in s["start"] or "T09:" in s["start"] for s in nearest[:1])


def test_taken_slot_is_409_just_taken(shop):
    business, service, staff = shop
    start = next_monday()
    for _ in staff:
        assert (
            book(
                business, booking_body(service, start, email=f"{_.pk}@x.example", phone="", sms_consent=False)
            ).status_code
            == 201
        )
    response = book(
        business, booking_body(service, start, email="late@x.example", phone="", sms_consent=False)
    )
    assert response.status_code == 409 and response.json()["nearest"]


def test_idempotency_key_replays_and_refuses_reuse(shop):
    business, service, _ = shop
    body = booking_body(service, next_monday())
    first = book(business, body, HTTP_IDEMPOTENCY_KEY="abc-123")
    again = book(business, body, HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = book(business, {**body, "last_name": "Someone"}, HTTP_IDEMPOTENCY_KEY="abc-123")
    assert other.status_code == 422
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1


def test_a_retry_from_a_reloaded_page_replays_the_booking(shop):
    """After a failed answer the page may fetch a new form token and write the start in UTC: same booking."""
    business, service, _ = shop
    start = next_monday()
    body = booking_body(service, start)
    first = book(business, body, HTTP_IDEMPOTENCY_KEY="reload-1")
    retry = {**body, "form_token": aged_form_token(), "start": start.astimezone(UTC).isoformat()}
    assert retry["form_token"] != body["form_token"] and retry["start"] != body["start"]
    again = book(business, retry, HTTP_IDEMPOTENCY_KEY="reload-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    later = book(
        business,
        {**retry, "start": (start + timedelta(hours=1)).isoformat()},
        HTTP_IDEMPOTENCY_KEY="reload-1",
    )
    assert later.status_code == 422
    with schema_context(business.schema):
        assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"website": "http://spam.example"}, "non_field_errors"),
        ({"form_token": "forged:token"}, "form_token"),
        ({"form_token": "fresh"}, "form_token"),  # handed out a moment ago
        ({"privacy_consent": False}, "detail"),
        ({"email": "", "phone": ""}, "email"),
        ({"phone": "123"}, "phone"),
        ({"phone": "", "sms_consent": True}, "phone"),
        ({"last_name": ""}, "last_name"),
        ({"start": "tomorrow"}, "start"),
    ],
)
def test_bad_input_and_bots_get_400(shop, overrides, field):
    business, service, _ = shop
    if overrides.get("form_token") == "fresh":
        overrides = {"form_token": aged_form_token(0)}
    response = book(business, booking_body(service, next_monday(), **overrides))
    assert response.status_code == 400
    assert field in response.json()
    with schema_context(business.schema):
        assert not Appointment.objects.exists() and not Customer.objects.exists()


def test_the_form_time_a_person_needs_is_a_setting_the_page_is_told(shop, settings):
    business, service, _ = shop
    settings.PUBLIC_FORM_MIN_SECONDS = 5
    answer = client_for(business.host).get("/api/public/v1/services/").json()
    assert answer["form_min_seconds"] == 5
    too_soon = book(business, booking_body(service, next_monday(), form_token=aged_form_token(4)))
    assert too_soon.status_code == 400 and "form_token" in too_soon.json()
    in_time = book(business, booking_body(service, next_monday(), form_token=aged_form_token(5.5)))
    assert in_time.status_code == 201, in_time.content


def test_too_many_open_bookings(shop):
    business, service, _ = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": 1})
    start = next_monday()
    assert book(business, booking_body(service, start)).status_code == 201
    response = book(business, booking_body(service, start + timedelta(hours=3)))
    assert response.status_code == 400 and "1 open booking here" in response.json()["detail"]


def test_manage_link_cancel_and_reschedule(shop):
    business, service, _ = shop
    start = next_monday()
    token = book(business, booking_body(service, start)).json()["manage_token"]
    client = client_for(business.host, "en")
    shown = client.get(f"/api/public/v1/bookings/{token}/").json()
    assert shown["changeable"] is True and shown["phone"] == business.tenant.phone
    moved = public_post(
        business.host, f"bookings/{token}/reschedule/", {"start": (start + timedelta(hours=1)).isoformat()}
    )
    assert moved.status_code == 200 and moved.json()["start"] == (start + timedelta(hours=1)).isoformat()
    closed = public_post(
        business.host, f"bookings/{token}/reschedule/", {"start": start.replace(hour=22).isoformat()}
    )
    assert closed.status_code == 409 and closed.json()["nearest"]
    assert public_post(business.host, f"bookings/{token}/cancel/").json()["status"] == "cancelled"
    assert public_post(business.host, f"bookings/{token}/cancel/").status_code == 400


def test_after_the_cutoff_the_customer_is_asked_to_call(shop):
    business, service, _ = shop
    with schema_context(business.schema):
        BusinessSettings.objects.update_or_create(id=1, defaults={"cancel_cutoff_hours": 24 * 30})
    token = book(business, booking_body(service, next_monday())).json()["manage_token"]
    assert client_for(business.host).get(f"/api/public/v1/bookings/{token}/").json()["changeable"] is False
    response = public_post(business.host, f"bookings/{token}/cancel/")
    assert response.status_code == 400 and "Please call us" in response.json()["detail"]


def test_unknown_or_foreign_manage_token_is_404(shop, business_b):
    business, service, _ = shop
    token = book(business, booking_body(service, next_monday())).json()["manage_token"]
    assert client_for(business.host).get("/api/public/v1/bookings/not-a-token/").status_code == 404
    assert client_for(business_b.host).get(f"/api/public/v1/bookings/{token}/").status_code == 404
    assert public_post(business_b.host, f"bookings/{token}/cancel/").status_code == 404
    assert client_for(business_b.host).get("/api/public/v1/services/").json()["services"] == []


def test_rate_limit_answers_429_with_retry_after(shop):
    business, *_ = shop
    client = client_for(business.host)
    # public_booking allows 20 requests a minute per IP; the throttle runs before any validation.
    codes = [client.post("/api/public/v1/bookings/", {}).status_code for _ in range(21)]
    assert codes == [400] * 20 + [429]
    limited = client.post("/api/public/v1/bookings/", {})
    assert int(limited["Retry-After"]) > 0
    assert client.post("/api/public/v1/bookings/", {}, REMOTE_ADDR="10.9.8.7").status_code == 400
    assert client.get("/api/public/v1/services/").status_code == 200  # reading has its own budget


def test_public_availability_has_a_weak_tag_for_the_same_json_compact_or_indented(shop):
    business, service, _staff = shop
    day = next_monday().date().isoformat()
    client = client_for(business.host)
    path = f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    compact = client.get(path)
    indented = client.get(path, HTTP_ACCEPT="application/json; indent=2")
    assert b"\n" not in compact.content and b'\n  "slots": [' in indented.content
    assert indented.json() == compact.json() and indented["ETag"] == compact["ETag"]
    assert compact["ETag"].startswith('W/"')
    tag = compact["ETag"].removeprefix("W/")
    for if_none_match in (compact["ETag"], tag, f'"other", {tag}'):
        again = client.get(path, HTTP_IF_NONE_MATCH=if_none_match, HTTP_ACCEPT="application/json; indent=2")
        assert again.status_code == 304, if_none_match
    assert client.get(path, HTTP_IF_NONE_MATCH='W/"other"').status_code == 200


def test_public_availability_is_cached_until_something_changes(shop, django_capture_on_commit_callbacks):
    business, service, staff = shop
    day = next_monday().date().isoformat()
    client = client_for(business.host)
    path = f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}&resource={staff[0].pk}"
    first = client.get(path)
    assert first.status_code == 200 and first["Cache-Control"] == "no-cache" and first["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    with CaptureQueriesContext(connection) as queries:
        again = client.get(path)
    assert again.json() == first.json() and not [q for q in queries if "scheduling_" in q["sql"]]

    # A booking through the public API moves the version: the slot is gone from the next answer.
    with django_capture_on_commit_callbacks(execute=True):
        assert book(business, booking_body(service, next_monday(), resource=staff[0].pk)).status_code == 201
    after = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    assert next_monday().isoformat() not in [s["start"] for s in after.json()["slots"]]
    assert next_monday().isoformat() in [s["start"] for s in first.json()["slots"]]

    # So does a change of hours made in the backoffice (any write that changes what is free).
    with schema_context(business.schema):
        staff[0].hours.all().delete()
        WeeklyHours.objects.create(resource=staff[0], weekday=0, start=time(15), end=time(16))
    later = client.get(path)
    assert [s["start"][11:16] for s in later.json()["slots"]][:1] == ["15:00"]


def test_a_computed_answer_costs_one_statement_and_a_course_its_own_look_up(shop):
    """The booking page asks for slots on every change of day: the statement that loads what the engine
    needs also says whether the service is a course, so a plain service costs no second query."""
    business, service, _ = shop
    day = next_monday().date().isoformat()
    client = client_for(business.host)

    def tenant_statements(path):
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path)
        assert answer.status_code == 200, answer.content
        sent = [q["sql"] or "" for q in queries]
        return answer, [q for q in sent if not q.startswith("SET ") and "tenancy_" not in q]

    answer, statements = tenant_statements(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    )
    assert answer.json()["slots"] and len(statements) == 1

    with schema_context(business.schema):
        service.online_series_count, service.online_series_interval_weeks = 3, 1
        service.save()  # moves the availability version: the cached answer is not reused
    answer, statements = tenant_statements(
        f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    )
    assert len(statements) > 1 and answer.json()["slots"]
    assert all(len(slot["occurrences"]) == 3 for slot in answer.json()["slots"])


def test_the_cache_is_the_business_own(shop, business_b):
    business, service, _ = shop
    day = next_monday().date().isoformat()
    path = f"/api/public/v1/availability/?service={service.pk}&start={day}&end={day}"
    assert client_for(business.host).get(path).json()["slots"]
    # Business B has no such service: the same question at B's address is B's own answer.
    answer = client_for(business_b.host).get(path)
    assert answer.status_code == 400 and "service" in answer.json()


def test_a_booking_reads_the_settings_the_endpoints_and_the_domain_once(shop):
    """The view, the service and the team notice all ask for the settings, the customer's and the
    appointment's events for the webhook endpoints, the answer and the messages for the domain: one read
    each per request (termino/shared/request_memo.py), and each event still reaches its endpoint."""
    from termino.tenants.webhooks.models import Delivery, Endpoint

    business, service, staff = shop
    with schema_context(business.schema):
        # The settings row exists, as after a business's first request (making it is a write, which ends
        # the memo for the rest of that request).
        BusinessSettings.current()
        Endpoint.objects.create(
            url="https://hooks.example/customers", events=["customer.created"], secret="s" * 32
        )
        Endpoint.objects.create(
            url="https://hooks.example/bookings", events=["appointment.created"], secret="t" * 32
        )
    with CaptureQueriesContext(connection) as queries:
        answer = book(business, booking_body(service, next_monday(), resource=staff[0].pk))
    assert answer.status_code == 201, answer.content
    sent = [q["sql"] or "" for q in queries]

    def reads(table):
        return [q for q in sent if q.startswith("SELECT") and f'FROM "{table}"' in q]

    assert len(reads("business_businesssettings")) == 1
    assert len(reads("webhooks_endpoint")) == 1
    # (the routing's own look-up of the host reads whole Domain rows; the links read only the name)
    assert (
        len([q for q in reads("tenancy_domain") if q.startswith('SELECT "tenancy_domain"."domain" AS')]) == 1
    )
    with schema_context(business.schema):
        delivered = sorted(Delivery.objects.values_list("event", "endpoint__url"))
    assert delivered == [
        ("appointment.created", "https://hooks.example/bookings"),
        ("customer.created", "https://hooks.example/customers"),
    ]
