import copy

import pytest

from termino.shared.sms.gateways import (
    DeliveryReport,
    Lox24Gateway,
    UnsupportedEvent,
    parse_delivery_webhook,
)
from tests.fakes.lox24 import FakeLox24

PROVIDER_ID = "d6c12ac4-cc7d-11ec-b6da-525400bbb7dc"

# The example event of LOX24's documentation (https://doc.lox24.eu/info/notifications/).
DOCUMENTED_EVENT = {
    "id": "a3cd6e19-8af2-498d-ad07-c7840f1b4ac8",
    "data": {
        "id": PROVIDER_ID,
        "key_id": 8207,
        "dlr_code": 1,
        "status_code": 100,
        "callback_data": "some data from user's request here",
    },
    "name": "sms.delivery",
    "created_at": 1653378603,
    "api_version": "2022-05-25",
    "attempt_number": 1,
    "attempts_total": 4,
    "notification_task_id": "3378de83-de66-4de8-9d29-2b10d41bb641",
}


def event(**data):
    payload = copy.deepcopy(DOCUMENTED_EVENT)
    payload["data"].update(data)
    return payload


def test_the_documented_example():
    assert parse_delivery_webhook(DOCUMENTED_EVENT) == DeliveryReport(
        provider_id=PROVIDER_ID,
        status="delivered",
        code=1,
        callback_data="some data from user's request here",
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [(1, "delivered"), (2, "queued"), (4, "en_route"), (8, "expired"), (16, "rejected")],
)
def test_each_status_code(code, status):
    report = parse_delivery_webhook(event(dlr_code=code))
    assert (report.status, report.code) == (status, code)


def test_payloads_from_the_fake_match_what_was_sent():
    with FakeLox24() as fake:
        sent = Lox24Gateway(fake.url, fake.token).send(
            sender_id="Termino", phone="+4915112345678", text="Hallo", callback_data="msg-7"
        )
        report = parse_delivery_webhook(fake.delivery_payload(sent.provider_id, 16))
    assert report == DeliveryReport(sent.provider_id, "rejected", 16, "msg-7")


def test_no_report_yet_and_other_events_are_unsupported_not_malformed():
    with pytest.raises(UnsupportedEvent):
        parse_delivery_webhook(event(dlr_code=0))
    with pytest.raises(UnsupportedEvent):
        parse_delivery_webhook({**DOCUMENTED_EVENT, "name": "sms.inbound"})


def without(key):
    payload = copy.deepcopy(DOCUMENTED_EVENT)
    del payload["data"][key]
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "sms.delivery",
        {},
        {**DOCUMENTED_EVENT, "name": None},
        {**DOCUMENTED_EVENT, "data": None},
        {**DOCUMENTED_EVENT, "data": []},
        without("id"),
        without("dlr_code"),
        event(id="not-a-uuid"),
        event(id=12345),
        event(dlr_code="1"),
        event(dlr_code=True),
        event(dlr_code=3),
        event(dlr_code=32),
        event(callback_data=42),
    ],
)
def test_malformed_payloads_raise_value_error(payload):
    with pytest.raises(ValueError) as exc:
        parse_delivery_webhook(payload)
    assert not isinstance(exc.value, UnsupportedEvent)
