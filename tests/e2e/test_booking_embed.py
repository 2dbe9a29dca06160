"""The embed snippet on a page of another origin, as a business puts it on its own website."""

import http.server
import socket

import pytest
from django_tenants.utils import schema_context

from termino.tenants.business.models import BusinessSettings
from tests.fakes.serving import serve_in_thread, stop_serving
from tests.tenants.scheduling.factories import salon

from .conftest import DESKTOP, PHONE, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def other_site():
    """A static website on another origin (another port), serving whatever HTML the test sets."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    serve_in_thread(server)
    yield {"origin": f"http://127.0.0.1:{port}", "pages": pages}
    stop_serving(server)


def embedding_business(live_site, origin: str):
    business = live_site["provision"]("t-embed-salon")
    with schema_context(business.schema):
        salon()
        BusinessSettings.objects.update_or_create(id=1, defaults={"allowed_origins": origin})
    return business, f"http://{business.host}:{live_site['port']}"


def test_inline_embed_on_another_origin_shows_the_booking_page_and_resizes(live_site, browser, other_site):
    _business, base = embedding_business(live_site, other_site["origin"])
    other_site["pages"]["/"] = (
        "<!doctype html><html><body><h1>Salon website</h1>"
        f'<script src="{base}/embed.js" data-mode="inline"></script><p>Footer</p></body></html>'
    )
    context = browser.new_context(locale="de-DE", **DESKTOP)
    page = context.new_page()
    try:
        page.goto(other_site["origin"] + "/")
        frame_element = page.wait_for_selector("iframe")
        frame = frame_element.content_frame()
        frame.wait_for_load_state()
        frame.get_by_text("Haarschnitt").first.wait_for()
        # The page inside reports its height and the loader sizes the iframe to it.
        page.wait_for_function("document.querySelector('iframe').style.height !== ''")
        assert int(frame_element.evaluate("el => parseInt(el.style.height)")) > 200
        screenshot(page, "embed-inline")
    finally:
        context.close()


def test_button_embed_opens_a_modal_and_closes_with_escape(live_site, browser, other_site):
    _business, base = embedding_business(live_site, other_site["origin"])
    other_site["pages"]["/"] = (
        "<!doctype html><html><body><h1>Salon</h1>"
        f'<script src="{base}/embed.js" data-mode="button" data-label="Jetzt buchen"></script></body></html>'
    )
    context = browser.new_context(locale="de-DE", **PHONE)
    page = context.new_page()
    try:
        page.goto(other_site["origin"] + "/")
        page.get_by_role("button", name="Jetzt buchen").click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        page.frame_locator("iframe").get_by_text("Haarschnitt").first.wait_for()
        screenshot(page, "embed-modal")
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")
    finally:
        context.close()


def test_a_site_not_listed_cannot_frame_the_booking_page(live_site, browser, other_site):
    _business, base = embedding_business(live_site, "https://somewhere-else.example")
    other_site["pages"]["/"] = (
        f'<!doctype html><html><body><iframe src="{base}/book/?embed=1"></iframe></body></html>'
    )
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(other_site["origin"] + "/")
        frame = page.wait_for_selector("iframe").content_frame()
        page.wait_for_timeout(500)
        # Chromium refuses to render a page whose frame-ancestors excludes this origin.
        assert frame is None or "Haarschnitt" not in (frame.content() or "")
    finally:
        context.close()


@pytest.mark.parametrize(("lang", "device"), [("de", DESKTOP), ("en", PHONE)], ids=["desktop-de", "phone-en"])
def test_the_snippet_on_a_site_not_listed_explains_what_to_do(live_site, browser, other_site, lang, device):
    _business, base = embedding_business(live_site, "https://somewhere-else.example")
    other_site["pages"]["/"] = (
        f'<!doctype html><html lang="{lang}"><body><h1>Salon website</h1>'
        f'<script src="{base}/embed.js" data-mode="inline"></script><p>Footer</p></body></html>'
    )
    context = browser.new_context(**device)
    page = context.new_page()
    try:
        page.goto(other_site["origin"] + "/")
        notice = page.locator(".termino-embed-notice")
        notice.wait_for()
        expected = {"de": "noch nicht freigeschaltet", "en": "not switched on for this website yet"}[lang]
        assert expected in notice.inner_text() and other_site["origin"] in notice.inner_text()
        assert notice.get_by_role("link").get_attribute("href") == f"{base}/book/"
        assert page.locator("iframe").count() == 0  # no grey broken box
        screenshot(page, f"embed-not-listed-{lang}")
        # Listed a moment later, the same page shows the booking at the next load (the answer is not cached).
        with schema_context(_business.schema):
            BusinessSettings.objects.filter(id=1).update(allowed_origins=other_site["origin"])
        page.reload()
        page.wait_for_selector("iframe")
    finally:
        context.close()
