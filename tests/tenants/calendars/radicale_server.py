"""A real CalDAV server for the tests: Radicale (from PyPI) in a subprocess on a free port, with its
storage in a temporary folder and plain htpasswd users. Nothing about it is faked.

    with RadicaleServer(tmp_path) as server:
        url = server.make_calendar("anna", "work")     # MKCALENDAR as the user
        server.put_event("anna", "work", ics_text)     # what a phone's calendar app would do
        server.events("anna", "work")                  # every event's iCalendar text
"""

import subprocess
import sys
import time
import uuid
from datetime import UTC
from pathlib import Path

import requests
from defusedxml.ElementTree import fromstring

from termino.devserver.ports import find_free_port

PASSWORD = "app-password-1"


class RadicaleServer:
    def __init__(self, folder: Path, users=("anna", "ben")):
        self.folder = folder
        self.port = find_free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.users = users
        self.process = None

    def start(self) -> "RadicaleServer":
        htpasswd = self.folder / "users"
        htpasswd.write_text("".join(f"{user}:{PASSWORD}\n" for user in self.users))
        config = self.folder / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {htpasswd}\nhtpasswd_encryption = plain\ndelay = 0\n"
            "[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {self.folder / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/.web/", timeout=1)
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.1)
        raise RuntimeError("Radicale did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def calendar_url(self, user: str, name: str) -> str:
        return f"{self.url}/{user}/{name}/"

    def make_calendar(self, user: str, name: str) -> str:
        """A new empty calendar (one of that name made by an earlier run is removed first)."""
        url = self.calendar_url(user, name)
        requests.delete(url, auth=(user, PASSWORD), timeout=10)
        body = (
            '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>'
            f"{name}</D:displayname></D:prop></D:set></C:mkcalendar>"
        )
        response = requests.request("MKCALENDAR", url, data=body, auth=(user, PASSWORD), timeout=10)
        assert response.status_code == 201, response.text
        return url

    def delete_calendar(self, user: str, name: str) -> None:
        response = requests.delete(self.calendar_url(user, name), auth=(user, PASSWORD), timeout=10)
        assert response.status_code in (200, 204), response.text

    def put_event(self, user: str, name: str, ics: str, *, href: str | None = None) -> str:
        href = href or f"{uuid.uuid4()}.ics"
        response = requests.put(
            self.calendar_url(user, name) + href,
            data=ics.encode(),
            headers={"Content-Type": "text/calendar"},
            auth=(user, PASSWORD),
            timeout=10,
        )
        assert response.status_code in (201, 204), response.text
        return href

    def events(self, user: str, name: str) -> list[str]:
        """The iCalendar text of every event in the calendar (a REPORT like a client's)."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        response = requests.request(
            "REPORT",
            self.calendar_url(user, name),
            data=body,
            headers={"Depth": "1", "Content-Type": "application/xml"},
            auth=(user, PASSWORD),
            timeout=10,
        )
        assert response.status_code == 207, response.text
        root = fromstring(response.content)
        return [el.text for el in root.iter("{urn:ietf:params:xml:ns:caldav}calendar-data") if el.text]


def event_ics(
    uid: str, start, end, summary: str = "Zahnarzt", *, transparent: bool = False, rrule: str = ""
) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Phone//Calendar//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{start.astimezone(UTC):{fmt}}",
        f"DTSTART:{start.astimezone(UTC):{fmt}}",
        f"DTEND:{end.astimezone(UTC):{fmt}}",
        f"SUMMARY:{summary}",
    ]
    if transparent:
        lines.append("TRANSP:TRANSPARENT")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)
