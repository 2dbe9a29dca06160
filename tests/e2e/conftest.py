"""A live Termino on a free port, and Debian's Chromium driven by Playwright, for browser tests."""

import os
import socket
import time
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections

from tests.fakes.serving import serve_in_thread, stop_serving

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".run" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make run outside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(ThreadedWSGIServer):
    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            # Each request runs in its own thread: leave no connection open to block dropping the test DB.
            connections.close_all()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_site(committed_db, settings):
    """Serves the app on 127.0.0.1:<port>; `*.localhost` resolves there in Chromium."""
    port = _free_port()
    settings.SITE_PORT = str(port)
    # The booking page waits until its form is this old before it sends it (3 s in production). The wait
    # is the page's and the server's, read from the services answer, whatever the value; half a second
    # keeps every booking test from idling 3 s. The first booking test keeps the production value.
    settings.PUBLIC_FORM_MIN_SECONDS = 0.5
    server = _Server(("127.0.0.1", port), _QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(WSGIHandler()))
    server.daemon_threads = True
    serve_in_thread(server, name="live-site")
    yield {"port": port, "url": f"http://localhost:{port}", "provision": committed_db}
    stop_serving(server)


@pytest.fixture(scope="session")
def _chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


class _PinnedBrowser:
    """Chromium whose every new context runs on the test's pinned clock (tests/clock.py), ticking."""

    def __init__(self, chromium):
        self._chromium = chromium

    def new_context(self, **options):
        context = self._chromium.new_context(**options)
        context.clock.install(time=time.time())  # time-machine's pinned "now", not the machine's
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def __getattr__(self, name):
        return getattr(self._chromium, name)


@pytest.fixture
def browser(_chromium):
    return _PinnedBrowser(_chromium)


DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
