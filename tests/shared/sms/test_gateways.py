"""The LOX24 gateway against the fake LOX24 server, over real HTTP."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from termino.shared.sms.gateways import (
    ConsoleGateway,
    FileGateway,
    Lox24Gateway,
    PermanentSmsError,
    SendResult,
    TemporarySmsError,
    gateway_from_settings,
)
from tests.fakes.lox24 import FakeLox24

MESSAGE = {
    "sender_id": "Salon Anna",
    "phone": "+4917012345678",
    "text": "Ihr Termin morgen um 14:30 Uhr ist bestätigt. Grüße, Salon Anna",
    "callback_data": "appointment-42",
}


@pytest.fixture
def fake():
    with FakeLox24() as server:
        yield server


def gateway(fake, **kwargs):
    return Lox24Gateway(fake.url, fake.token, **kwargs)


def test_send_returns_the_id_and_posts_the_documented_json(fake):
    result = gateway(fake).send(**MESSAGE)

    assert result == SendResult(provider_id=fake.ids[0])
    assert uuid.UUID(result.provider_id)
    assert fake.messages == [
        {
            "sender_id": "Salon Anna",
            "phone": "+4917012345678",
            "text": "Ihr Termin morgen um 14:30 Uhr ist bestätigt. Grüße, Salon Anna",
            "service_code": "direct",
            "delivery_at": 0,
            "callback_data": "appointment-42",
        }
    ]


def test_each_message_gets_its_own_id_and_the_service_code_is_configurable(fake):
    gw = gateway(fake, service_code="economy")
    first, second = gw.send(**MESSAGE), gw.send(**MESSAGE)
    assert first.provider_id != second.provider_id
    assert [m["service_code"] for m in fake.messages] == ["economy", "economy"]


def test_a_wrong_token_is_permanent(fake):
    with pytest.raises(PermanentSmsError) as exc:
        Lox24Gateway(fake.url, "1234567:wrong").send(**MESSAGE)
    assert exc.value.status == 401
    assert "API token" in exc.value.reason and "(401)" in exc.value.reason
    assert "wrong" not in exc.value.reason
    assert fake.messages == []


def test_no_credit_is_permanent(fake):
    fake.fail_next(402)
    with pytest.raises(PermanentSmsError) as exc:
        gateway(fake).send(**MESSAGE)
    assert exc.value.reason.startswith("LOX24: no credit left (402)")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("phone", "017012345678", "phone: This value is not a valid phone number."),
        ("sender_id", "Salon Anna Berlin", "sender_id: This value is not valid."),
        ("text", "x" * 1531, "text: This value is too long"),
        ("text", "😀" * 671, "670 characters or less"),
    ],
)
def test_invalid_data_is_permanent_and_says_which_field(fake, field, value, words):
    with pytest.raises(PermanentSmsError) as exc:
        gateway(fake).send(**{**MESSAGE, field: value})
    assert exc.value.status == 422
    assert exc.value.reason.startswith("LOX24 refused the message as invalid (422): ")
    assert words in exc.value.reason
    assert fake.messages == []


def test_the_longest_allowed_texts_pass(fake):
    gateway(fake).send(**{**MESSAGE, "text": "x" * 1530})
    gateway(fake).send(**{**MESSAGE, "text": "😀" * 670})
    gateway(fake).send(**{**MESSAGE, "sender_id": "+4930123456"})
    assert len(fake.messages) == 3


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_are_permanent(fake, status):
    fake.fail_next(status)
    with pytest.raises(PermanentSmsError) as exc:
        gateway(fake).send(**MESSAGE)
    assert f"({status})" in exc.value.reason


def test_a_wrong_api_address_is_permanent(fake):
    with pytest.raises(PermanentSmsError) as exc:
        Lox24Gateway(fake.url + "/v1", fake.token).send(**MESSAGE)
    assert "(404)" in exc.value.reason and "LOX24_API_URL" in exc.value.reason


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_temporary(fake, status):
    fake.fail_next(status)
    with pytest.raises(TemporarySmsError) as exc:
        gateway(fake).send(**MESSAGE)
    assert exc.value.status == status
    assert f"({status})" in exc.value.reason and "try again later" in exc.value.reason


def test_failures_last_for_the_given_number_of_requests(fake):
    fake.fail_next(503, times=2)
    gw = gateway(fake)
    for _ in range(2):
        with pytest.raises(TemporarySmsError):
            gw.send(**MESSAGE)
    assert gw.send(**MESSAGE).provider_id == fake.ids[0]
    assert fake.requests == 3


def test_a_stall_past_the_timeout_is_temporary(fake):
    fake.stall_next(3)
    with pytest.raises(TemporarySmsError) as exc:
        gateway(fake, timeout=0.3).send(**MESSAGE)
    assert exc.value.reason == "LOX24 did not answer within 0.3 s"


def test_a_short_stall_within_the_timeout_still_sends(fake):
    fake.stall_next(0.1)
    result = gateway(fake, timeout=5).send(**MESSAGE)
    assert result.provider_id == fake.ids[0]


def test_an_unreachable_server_is_temporary():
    with FakeLox24() as fake:
        url, token = fake.url, fake.token
    with pytest.raises(TemporarySmsError) as exc:
        Lox24Gateway(url, token, timeout=2).send(**MESSAGE)
    assert "could not be reached" in exc.value.reason


def test_the_fake_rejects_malformed_json_with_400(fake):
    import requests

    response = requests.post(
        fake.url + "/sms", data=b"{not json", headers={"X-LOX24-AUTH-TOKEN": fake.token}, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["hydra:description"] == "Syntax error"
    assert len(response.headers["X-LOX24-REQUEST-ID"]) == 32


def test_the_token_is_not_in_the_repr():
    assert "secret" not in repr(Lox24Gateway("https://api.lox24.eu", "123:secret"))


def test_console_gateway_prints(capsys):
    result = ConsoleGateway().send(**MESSAGE)
    out = capsys.readouterr().out
    assert result.provider_id.startswith("console-")
    assert "+4917012345678" in out and "bestätigt" in out


def test_file_gateway_appends_json_lines(tmp_path):
    path = tmp_path / "sub" / "sms.jsonl"
    gw = FileGateway(path)
    first, second = gw.send(**MESSAGE), gw.send(**{**MESSAGE, "text": "Zweite"})
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["provider_id"] for line in lines] == [first.provider_id, second.provider_id]
    assert lines[0]["text"] == MESSAGE["text"] and lines[1]["text"] == "Zweite"
    assert lines[0]["callback_data"] == "appointment-42"


def test_gateway_from_settings(settings, tmp_path):
    settings.SMS_BACKEND = "console"
    assert isinstance(gateway_from_settings(), ConsoleGateway)

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    gw = gateway_from_settings()
    assert isinstance(gw, FileGateway) and gw.path == tmp_path / "sms.jsonl"

    settings.SMS_BACKEND = "lox24"
    settings.LOX24_TOKEN = "123:abc"
    settings.LOX24_SERVICE_CODE = "economy"
    gw = gateway_from_settings()
    assert isinstance(gw, Lox24Gateway)
    assert (gw.url, gw.token, gw.service_code) == ("https://api.lox24.eu/sms", "123:abc", "economy")

    settings.LOX24_TOKEN = ""
    with pytest.raises(ImproperlyConfigured):
        gateway_from_settings()

    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured):
        gateway_from_settings()


# --- finding a message in the postbox (settling a crash between acceptance and our bookkeeping) ---------


def _send(gw, phone, callback):
    return gw.send(sender_id="Salon", phone=phone, text="Hallo", callback_data=callback).provider_id


def test_find_returns_the_id_of_the_message_with_that_callback_data(fake):
    gw = gateway(fake)
    since = datetime.now(UTC) - timedelta(seconds=5)
    wanted = _send(gw, "+4917612345678", "t_a|reminder:1")
    _send(gw, "+4917612345678", "t_a|reminder:2")
    _send(gw, "+4915112345678", "t_a|reminder:3")
    assert gw.find(phone="+4917612345678", since=since, callback_data="t_a|reminder:1") == wanted
    assert gw.find(phone="+4917612345678", since=since, callback_data="t_a|reminder:3") is None
    assert (
        gw.find(
            phone="+4917612345678",
            since=datetime.now(UTC) + timedelta(hours=1),
            callback_data="t_a|reminder:1",
        )
        is None
    )


def test_find_walks_the_pages_of_the_postbox(fake):
    gw = gateway(fake)
    since = datetime.now(UTC) - timedelta(seconds=5)
    first = _send(gw, "+4917612345678", "oldest")
    for n in range(65):
        _send(gw, "+4917612345678", f"later-{n}")
    assert gw.find(phone="+4917612345678", since=since, callback_data="oldest") == first


def test_find_with_a_wrong_token_is_temporary_so_the_row_waits(fake):
    with pytest.raises(TemporarySmsError):
        Lox24Gateway(fake.url, "wrong").find(
            phone="+4917612345678", since=datetime.now(UTC), callback_data="x"
        )


def test_file_gateway_finds_what_it_wrote(tmp_path):
    gw = FileGateway(tmp_path / "sms.jsonl")
    since = datetime.now(UTC) - timedelta(seconds=5)
    assert gw.find(phone="+4917612345678", since=since, callback_data="a") is None
    sent = _send(gw, "+4917612345678", "a")
    assert gw.find(phone="+4917612345678", since=since, callback_data="a") == sent
    assert gw.find(phone="+4915112345678", since=since, callback_data="a") is None
