"""The CalDAV door against a real Radicale: probing, busy events (recurrences expanded, free and our own
events left out), writing and removing, and the failures the settings page explains."""

import socket
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from termino.shared import timeutils
from termino.tenants.calendars import caldav_client
from termino.tenants.calendars.caldav_client import CalDavClient, CalDavError

from .radicale_server import PASSWORD, event_ics

BERLIN = timeutils.zone("Europe/Berlin")


def _hour(days: int, hour: int):
    day = timeutils.today(BERLIN) + timedelta(days=days)
    return timeutils.local_at(day, __import__("datetime").time(hour), BERLIN)


def test_probe_busy_put_delete(radicale):
    url = radicale.make_calendar("anna", "client-basics")
    client = CalDavClient(url, "anna", PASSWORD)
    first = client.probe()
    radicale.put_event("anna", "client-basics", event_ics("dentist-1", _hour(2, 10), _hour(2, 11)))
    radicale.put_event(
        "anna", "client-basics", event_ics("free-1", _hour(2, 12), _hour(2, 13), transparent=True)
    )
    radicale.put_event(
        "anna", "client-basics", event_ics("weekly-1", _hour(3, 8), _hour(3, 9), rrule="FREQ=WEEKLY;COUNT=3")
    )
    radicale.put_event(
        "anna", "client-basics", event_ics("appointment-7@t_x.termino", _hour(2, 14), _hour(2, 15))
    )
    assert client.probe() != first
    now = timeutils.now()
    busy = client.busy(
        now, timeutils.shift(now, timedelta(days=30)), zone=BERLIN, skip_uid_suffix="@t_x.termino"
    )
    assert sorted((b.uid, b.start) for b in busy) == [
        ("dentist-1", _hour(2, 10)),
        ("weekly-1", _hour(3, 8)),
        ("weekly-1", _hour(10, 8)),
        ("weekly-1", _hour(17, 8)),
    ]
    event_url = client.event_url("mine.ics")
    assert client.put(event_url, event_ics("mine", _hour(4, 9), _hour(4, 10)).encode()) is not None
    assert any("UID:mine" in text for text in radicale.events("anna", "client-basics"))
    client.delete(event_url)
    client.delete(event_url)  # gone already: fine
    assert not any("UID:mine" in text for text in radicale.events("anna", "client-basics"))


@pytest.mark.parametrize(
    ("user", "password", "path", "code"),
    [
        ("anna", "wrong", "anna/client-errors/", caldav_client.AUTH_FAILED),
        ("anna", PASSWORD, "anna/no-such-calendar/", caldav_client.NOT_FOUND),
        ("anna", PASSWORD, "anna/", caldav_client.NOT_FOUND),  # a folder, not a calendar
    ],
)
def test_failures_have_codes(radicale, user, password, path, code):
    radicale.make_calendar("anna", "client-errors") if code == caldav_client.AUTH_FAILED else None
    with pytest.raises(CalDavError) as refused:
        CalDavClient(f"{radicale.url}/{path}", user, password).probe()
    assert refused.value.code == code


def test_unreachable_and_private_hosts(settings):
    from termino.devserver.ports import find_free_port

    with pytest.raises(CalDavError) as refused:
        CalDavClient(f"http://127.0.0.1:{find_free_port()}/x/", "a", "b").probe()
    assert refused.value.code == caldav_client.UNREACHABLE
    settings.CALDAV_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(CalDavError) as refused:
        CalDavClient("http://127.0.0.1:1/x/", "a", "b").probe()
    assert refused.value.code == caldav_client.UNREACHABLE and "not a public address" in refused.value.detail


def test_the_request_goes_to_the_address_that_was_checked(radicale, monkeypatch):
    """DNS rebinding: the name answers with one address when it is checked and another one afterwards.
    The request must go to the checked one (here Radicale on loopback; the later answer is a TEST-NET
    address nobody listens on), with the name in the Host header."""
    url = radicale.make_calendar("anna", "client-pinned")
    parts = urlsplit(url)
    real = socket.getaddrinfo
    asked = []

    def changing_answers(host, *args, **kwargs):
        if host == "calendar.rebind.test":
            asked.append(host)
            return real("127.0.0.1" if len(asked) == 1 else "192.0.2.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", changing_answers)
    client = CalDavClient(
        parts._replace(netloc=f"calendar.rebind.test:{parts.port}").geturl(), "anna", PASSWORD
    )
    assert client.probe()  # a calendar: Radicale answered
    assert asked == ["calendar.rebind.test"]  # resolved once, for the check; connected to that answer
