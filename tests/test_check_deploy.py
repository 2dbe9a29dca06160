"""`manage.py check --deploy` is clean with production settings, and those settings are what we promise."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "SITE_SCHEME": "https",
    "BASE_DOMAIN": "termino.example",
    "NUM_PROXIES": "1",
    "CALENDAR_ENCRYPTION_KEYS": "6a3q6k8Zp0vJv0fM9i0Jr3m8w7mXz0wZl3Tq1yR7s4U=",
    "BACKUP_ENCRYPTION_KEYS": "Yk7qQ2d0cJ9uP1xR4mT8vW3zA6bC5eF0gH2iK7lN9oQ",
}
# Knobs a developer's shell might set that would make production look different.
# DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests of the same run (Playwright's event loop).
UNSET = (
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_PRELOAD",
    "SITE_PORT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CALENDAR_ENCRYPTION_KEYS",
    "BACKUP_ENCRYPTION_KEYS",
)


def run(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(PRODUCTION)
    env["DJANGO_SETTINGS_MODULE"] = "termino.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def test_check_deploy_reports_nothing():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize(
    ("setting", "check"),
    [
        ("CALENDAR_ENCRYPTION_KEYS", "termino.calendars.W001"),  # stored CalDAV passwords
        ("BACKUP_ENCRYPTION_KEYS", "termino.backups.W001"),  # stored business exports
    ],
)
def test_check_deploy_warns_without_a_key_of_its_own(setting, check):
    """What is encrypted at rest must not hang on SECRET_KEY in production."""
    previous = PRODUCTION.pop(setting)
    try:
        result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    finally:
        PRODUCTION[setting] = previous
    output = result.stdout + result.stderr
    assert result.returncode != 0 and check in output, output
    assert f"{setting} is empty" in output
    assert sum(line.startswith("?: (termino.") for line in output.splitlines()) == 1, output  # only this one


def test_production_settings():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'hsts': s.SECURE_HSTS_SECONDS, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'proxy_ssl': s.SECURE_PROXY_SSL_HEADER,"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'language_secure': s.LANGUAGE_COOKIE_SECURE, 'session_httponly': s.SESSION_COOKIE_HTTPONLY,"
        "'csrf_httponly': s.CSRF_COOKIE_HTTPONLY, 'samesite': s.SESSION_COOKIE_SAMESITE,"
        "'referrer': s.SECURE_REFERRER_POLICY, 'frames': s.X_FRAME_OPTIONS,"
        "'browser_close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, 'drf_proxies': s.REST_FRAMEWORK['NUM_PROXIES'],"
        "'proxies': s.NUM_PROXIES, 'hasher': s.PASSWORD_HASHERS[0]}))"
    )
    result = run("-c", script)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["hsts"] == 365 * 24 * 60 * 60 and values["subdomains"] is True
    assert values["ssl_redirect"] is True and values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["session_secure"] and values["csrf_secure"] and values["language_secure"]
    assert values["session_httponly"] and values["csrf_httponly"] and values["samesite"] == "Lax"
    assert values["referrer"] == "strict-origin-when-cross-origin" and values["frames"] == "DENY"
    assert values["browser_close"] is True
    assert values["drf_proxies"] == values["proxies"] == 1  # DRF trusts X-Forwarded-For exactly as deep
    assert "Argon2" in values["hasher"]
