"""Settings overview, profile (with logo upload), legal texts and booking rules."""

import io

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from termino.platform.tenancy.models import Tenant
from termino.platform.tenancy.routing import primary_url
from termino.tenants.business.models import BusinessSettings
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import salon

pytestmark = pytest.mark.django_db

PAGES = ["/settings/", "/settings/profile/", "/settings/legal/", "/settings/booking/"]


@pytest.fixture
def owner(business_a):
    return log_in_as(business_a, "owner")


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a throw-away folder (the storage caches its root, so that cache is reset too)."""
    settings.MEDIA_ROOT = str(tmp_path)
    storage = storages["default"]
    storage.__dict__.pop("relative_media_root", None)
    yield tmp_path
    storage.__dict__.pop("relative_media_root", None)


def rules(business) -> BusinessSettings:
    with schema_context(business.schema):
        return BusinessSettings.current()


def tenant_row(business) -> Tenant:
    return Tenant.objects.get(pk=business.tenant.pk)


def image(fmt="PNG", size=(60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#1d4ed8").save(buffer, fmt)
    return buffer.getvalue()


def profile_data(**overrides) -> dict:
    data = {
        "time_zone": "Europe/Berlin",
        "language": "de",
        "customer_address": "formal",
        "brand_colour": "#1d4ed8",
    }
    data.update(overrides)
    return data


# --- access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_owner_and_manager_see_the_pages(business_a, owner, path):
    assert owner.get(path).status_code == 200
    assert log_in_as(business_a, "manager").get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_staff_may_not(business_a, path):
    staff = log_in_as(business_a, "staff")
    assert staff.get(path).status_code == 403
    assert staff.post(path, {}).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_session_of_another_business_is_sent_to_the_login(business_a, business_b, path):
    stolen = client_for(business_a.host)
    stolen.cookies = log_in_as(business_b, "owner").cookies
    response = stolen.post(path, profile_data(time_zone="Europe/London"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert tenant_row(business_a).time_zone == "Europe/Berlin"


# --- overview -------------------------------------------------------------------------------------------


def test_overview_links_every_section_with_its_status(business_a, owner):
    with schema_context(business_a.schema):
        salon()
    page = owner.get("/settings/").content.decode()
    for path in ("/settings/profile/", "/settings/legal/", "/settings/booking/", "/settings/messages/"):
        assert f'href="{path}"' in page
    assert 'href="/settings/outbox/"' in page
    assert "Reminders 24 h and 2 h before" in page
    assert "Europe/Berlin" in page and "Privacy notice version 1" in page
    assert "Active services: 1" in page or 'href="/settings/services/"' not in page


# --- profile --------------------------------------------------------------------------------------------


def test_profile_shows_the_registration_data_read_only(owner):
    page = owner.get("/settings/profile/").content.decode()
    assert "Alpha Salon" in page and "Hauptstraße 1" in page and "030 12345678" in page  # national format
    assert 'name="name"' not in page and 'name="phone"' not in page
    assert '<option value="Europe/Berlin" selected>' in page


def test_profile_saves_locale_address_and_colour(business_a, owner):
    response = owner.post(
        "/settings/profile/",
        profile_data(
            time_zone="Europe/Vienna", language="en", customer_address="informal", brand_colour="#0F766E"
        ),
    )
    assert response.status_code == 302 and response["Location"] == "/settings/profile/"
    row = tenant_row(business_a)
    assert (row.time_zone, row.language) == ("Europe/Vienna", "en")
    saved = rules(business_a)
    assert (saved.customer_address, saved.brand_colour) == ("informal", "#0f766e")


@pytest.mark.parametrize(
    "bad",
    [
        {"time_zone": "Mars/Olympus"},
        {"language": "fr"},
        {"customer_address": "casual"},
        {"brand_colour": "red"},
        {"brand_colour": "#fefefe"},  # white text on it would be unreadable
    ],
)
def test_profile_rejects_bad_input_and_stores_nothing(business_a, owner, bad):
    response = owner.post(
        "/settings/profile/", profile_data(**{"language": "en", "customer_address": "informal", **bad})
    )
    assert response.status_code == 400
    assert tenant_row(business_a).language == "de" and rules(business_a).customer_address == "formal"


def test_logo_upload_is_stored_under_a_name_of_our_own(business_a, owner, media_root):
    upload = SimpleUploadedFile("my logo.html", image(), content_type="text/html")
    response = owner.post("/settings/profile/", profile_data(logo=upload))
    assert response.status_code == 302
    logo = rules(business_a).logo
    assert logo.name.startswith("branding/logo-") and logo.name.endswith(".png")
    assert (media_root / business_a.schema / logo.name).read_bytes() == image()
    # Served on the business's own host as an image.
    served = owner.get(f"/media/{business_a.schema}/{logo.name}")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_replacing_and_removing_the_logo(business_a, owner, media_root, django_capture_on_commit_callbacks):
    owner.post("/settings/profile/", profile_data(logo=SimpleUploadedFile("a.png", image())))
    first = rules(business_a).logo.name
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/settings/profile/", profile_data(logo=SimpleUploadedFile("b.webp", image("WEBP"))))
    second = rules(business_a).logo.name
    assert second.endswith(".webp") and not (media_root / business_a.schema / first).exists()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/settings/profile/", profile_data(remove_logo="on"))
    assert not rules(business_a).logo and not (media_root / business_a.schema / second).exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png"), "valid image"),
        (
            SimpleUploadedFile(
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                content_type="image/svg+xml",
            ),
            "valid image",
        ),
        (SimpleUploadedFile("logo.gif", image("GIF"), content_type="image/gif"), "PNG, JPEG or WebP"),
        (SimpleUploadedFile("big.png", image() + b"\0" * (1024 * 1024)), "at most 1 MB"),
        (SimpleUploadedFile("huge.png", image(size=(5000, 10))), "4000 pixels"),
    ],
    ids=["not-an-image", "svg", "gif", "oversized", "too-wide"],
)
def test_logo_upload_is_validated(business_a, owner, media_root, upload, message):
    response = owner.post("/settings/profile/", profile_data(language="en", logo=upload))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not rules(business_a).logo and tenant_row(business_a).language == "de"
    assert not any(media_root.rglob("*.*"))


# --- legal texts ----------------------------------------------------------------------------------------


def test_a_changed_privacy_notice_is_a_new_version(business_a, owner):
    response = owner.post(
        "/settings/legal/", {"impressum": "Alpha Salon GmbH\r\nHRB 1234", "privacy_notice": "Wir speichern …"}
    )
    assert response.status_code == 302
    saved = rules(business_a)
    assert saved.impressum == "Alpha Salon GmbH\nHRB 1234" and saved.privacy_policy_version == "2"
    # Only the legal notice changes: the privacy notice keeps its version.
    owner.post("/settings/legal/", {"impressum": "Alpha Salon GmbH", "privacy_notice": "Wir speichern …"})
    assert rules(business_a).privacy_policy_version == "2"
    assert "HRB 1234" not in owner.get("/book/").content.decode()
    assert "Wir speichern" in owner.get("/book/").content.decode()


def test_legal_texts_too_long_are_rejected(business_a, owner):
    response = owner.post("/settings/legal/", {"impressum": "x" * 20_001, "privacy_notice": "neu"})
    assert response.status_code == 400
    saved = rules(business_a)
    assert saved.privacy_notice == "" and saved.privacy_policy_version == "1"


# --- booking rules --------------------------------------------------------------------------------------


def booking_data(**overrides) -> dict:
    data = {"cancel_cutoff_hours": "12", "max_open_bookings": "2", "allowed_origins": ""}
    data.update(overrides)
    return data


def test_booking_page_shows_link_and_embed_snippet(business_a, owner):
    page = owner.get("/settings/booking/").content.decode()
    assert f'value="{primary_url(business_a.tenant, "/book/")}"' in page
    assert f'&lt;script src="{primary_url(business_a.tenant, "/embed.js")}" data-mode="inline"&gt;' in page
    assert 'data-mode="button" data-label="Book an appointment"' in page


def test_booking_rules_are_saved_with_clean_origins(business_a, owner):
    response = owner.post(
        "/settings/booking/",
        booking_data(
            approval_required="on",
            allowed_origins="https://WWW.Example.com/\r\n\r\nhttp://localhost:8000\r\nhttps://example.com:443",
        ),
    )
    assert response.status_code == 302
    saved = rules(business_a)
    assert (saved.cancel_cutoff_hours, saved.max_open_bookings, saved.approval_required) == (12, 2, True)
    assert saved.origins == ["https://www.example.com", "http://localhost:8000", "https://example.com"]
    # The booking page may now be framed by exactly these sites.
    csp = client_for(business_a.host).get("/book/")["Content-Security-Policy"]
    expected = "frame-ancestors 'self' https://www.example.com http://localhost:8000 https://example.com;"
    assert expected in csp + ";"


@pytest.mark.parametrize(
    "bad",
    [
        {"allowed_origins": "www.example.com"},
        {"allowed_origins": "https://example.com/booking"},
        {"allowed_origins": "https://example.com; script-src *"},
        {"allowed_origins": "*"},
        {"allowed_origins": "javascript://example.com"},
        {"cancel_cutoff_hours": "-1"},
        {"cancel_cutoff_hours": "9999"},
        {"max_open_bookings": "0"},
        {"sms_countries": "XX"},
        {"sms_countries": "Germany"},
        {"sms_countries": "DE, 49"},
        {"sms_daily_cap": "0"},
        {"sms_daily_cap": "999999"},
    ],
)
def test_bad_booking_rules_store_nothing(business_a, owner, bad):
    response = owner.post("/settings/booking/", booking_data(**bad))
    assert response.status_code == 400
    saved = rules(business_a)
    assert (saved.cancel_cutoff_hours, saved.max_open_bookings, saved.allowed_origins) == (24, 3, "")
    assert (saved.sms_countries, saved.sms_daily_cap) == ("", None)


def test_sms_countries_and_daily_cap_are_saved(business_a, owner, settings):
    page = owner.get("/settings/booking/").content.decode()
    assert (
        "Countries whose mobile numbers get SMS" in page and f'placeholder="{settings.SMS_DAILY_CAP}"' in page
    )
    response = owner.post(
        "/settings/booking/", booking_data(sms_countries="de, at; ch  DE", sms_daily_cap="50")
    )
    assert response.status_code == 302
    saved = rules(business_a)
    assert (saved.sms_countries, saved.sms_regions, saved.sms_cap) == ("DE AT CH", ("DE", "AT", "CH"), 50)
    assert 'value="DE, AT, CH"' in owner.get("/settings/booking/").content.decode()
    # Emptied: the defaults again (Germany, Austria, Switzerland and the EU/EEA; the platform's cap).
    assert owner.post("/settings/booking/", booking_data()).status_code == 302
    saved = rules(business_a)
    assert saved.sms_cap == settings.SMS_DAILY_CAP and {"DE", "AT", "CH", "FR", "NO"} <= set(
        saved.sms_regions
    )


def test_an_unknown_country_code_is_explained(business_a, owner):
    page = owner.post("/settings/booking/", booking_data(sms_countries="DE, XX")).content.decode()
    assert "Unknown country code: XX" in page
