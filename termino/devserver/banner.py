"""The box `make run` prints once the site answers: where to click and how to log in."""

import json
from pathlib import Path


def read_logins(path: Path) -> tuple[list[tuple[str, str, str]], str | None]:
    """The demo logins seed_demo wrote as [{"where", "username", "password"}, ...], and a warning if the
    file exists but cannot be used."""
    if not path.exists():
        return [], None
    try:
        entries = json.loads(path.read_text())
        logins = [(str(e["where"]), str(e["username"]), str(e["password"])) for e in entries]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return [], f"could not read the demo logins from {path}: {exc}"
    return logins, None


def welcome_box(web_port: int, logins_file: Path) -> str:
    site = f"http://localhost:{web_port}/"
    demo = f"http://demo.localhost:{web_port}/"
    links = [
        ("Platform / signup", site),
        ("Demo backoffice", demo),
        ("Booking page", f"{demo}book/"),
        ("Superadmin", f"{site}staff/"),
    ]
    logins, warning = read_logins(logins_file)
    width = max(len(label) for label, _ in links + [(w, "") for w, _, _ in logins]) + 3
    lines = ["Termino is running", ""]
    lines += [f"{label:<{width}}{url}" for label, url in links]
    if logins:
        lines += ["", "Logins"]
        lines += [f"{where:<{width}}{username} / {password}" for where, username, password in logins]
    if warning:
        lines += ["", warning]
    lines += ["", "Press Ctrl-C to stop."]
    inner = max(len(line) for line in lines) + 2
    border = "+" + "-" * (inner + 2) + "+"
    return "\n".join([border, *(f"|  {line:<{inner}}|" for line in lines), border])
