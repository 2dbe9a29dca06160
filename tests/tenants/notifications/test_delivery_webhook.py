import json

import pytest
from django_tenants.utils import schema_context

from termino.shared.sms.gateways import Lox24Gateway
from termino.tenants.notifications import services
from termino.tenants.notifications.models import OutboxMessage
from tests.conftest import client_for
from tests.fakes.lox24 import FakeLox24
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

pytestmark = pytest.mark.django_db
SECRET = "hook-secret-123"


@pytest.fixture
def sent_sms(business_a, settings):
    settings.LOX24_WEBHOOK_SECRET = SECRET
    with schema_context(business_a.schema):
        service, _staff, _room = salon()
    assert public_post(business_a.host, "bookings/", booking_body(service, next_monday())).status_code == 201
    with FakeLox24() as fake:
        with schema_context(business_a.schema):
            services.outbox_send_due(tenant=business_a.tenant, sms=Lox24Gateway(fake.url, fake.token))
            message = OutboxMessage.objects.get(channel="sms", kind="confirmation")
        yield business_a, fake, message


def post_hook(payload, secret=SECRET):
    return client_for("localhost").post(
        f"/webhooks/lox24/{secret}/", json.dumps(payload), content_type="application/json"
    )


def status_of(business, message):
    with schema_context(business.schema):
        message.refresh_from_db()
        return message.status, message.reason


def test_delivered_report_marks_the_row(sent_sms):
    business, fake, message = sent_sms
    assert post_hook(fake.delivery_payload(message.provider_message_id, 1)).status_code == 204
    assert status_of(business, message) == ("delivered", "")


@pytest.mark.parametrize(("code", "word"), [(8, "expired"), (16, "rejected")])
def test_expired_or_rejected_fails_with_the_reason(sent_sms, code, word):
    business, fake, message = sent_sms
    post_hook(fake.delivery_payload(message.provider_message_id, code))
    status, reason = status_of(business, message)
    assert status == "failed" and word in reason


def test_queued_report_changes_nothing(sent_sms):
    business, fake, message = sent_sms
    assert post_hook(fake.delivery_payload(message.provider_message_id, 2)).status_code == 204
    assert status_of(business, message)[0] == "sent"


def test_wrong_secret_or_garbage_is_refused_and_changes_nothing(sent_sms):
    business, fake, message = sent_sms
    assert post_hook(fake.delivery_payload(message.provider_message_id, 1), secret="wrong").status_code == 404
    assert post_hook({"name": "sms.delivery", "data": "nonsense"}).status_code == 400
    assert status_of(business, message)[0] == "sent"


def test_a_report_cannot_reach_another_business(sent_sms, business_b):
    business, fake, message = sent_sms
    forged = fake.delivery_payload(
        message.provider_message_id, 16, callback_data=f"{business_b.schema}|{message.idempotency_key}"
    )
    assert post_hook(forged).status_code == 204
    assert status_of(business, message)[0] == "sent"
