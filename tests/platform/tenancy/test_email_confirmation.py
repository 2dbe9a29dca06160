"""The owner confirms the signup address through the e-mailed link: valid once, for a week, at its own
business only; the backoffice shows a banner until then and can send the link again (rate limited)."""

import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.utils import formats, timezone, translation

from termino.platform.tenancy import confirmation
from termino.platform.tenancy.models import Tenant
from termino.shared.timeutils import shift
from tests.conftest import PASSWORD, client_for
from tests.tenants.backoffice.helpers import log_in_as

from .test_signup import form_data

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://(?P<host>[a-z0-9.-]+):8000(?P<path>/confirm-email/[^/\s]+/)")


class Fresh:
    """A business just signed up on the signup page, and the link from its e-mail.

    The tests run in one rolled-back transaction; `capture` runs each request's on-commit hooks (the
    routing cache forgetting a changed business) right after it, as a real commit would.
    """

    def __init__(self, capture, *, lang: str = "en", company: str = "Salon Schnittig"):
        self.capture = capture
        data = form_data(company_name=company)
        with capture(execute=True):
            response = client_for("localhost").post(
                "/signup/", data, REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE=lang
            )
        assert response.status_code == 302
        self.tenant = Tenant.objects.get(slug=data["slug"])
        self.host = f"{self.tenant.slug}.localhost"
        self.email = data["email"].lower()
        message = [m for m in mail.outbox if m.to == [self.email]][-1]
        found = LINK.search(message.body)
        assert found and found["host"] == self.host, message.body
        self.path = found["path"]
        self.token = self.path.split("/")[2]

    def client(self):
        return client_for(self.host, "en")

    def post(self, path: str, data: dict | None = None, *, client=None, follow: bool = False):
        with self.capture(execute=True):
            return (client or self.client()).post(path, data or {}, follow=follow)

    def confirm(self, path: str | None = None):
        return self.post(path or self.path)

    def confirmed_at(self):
        return Tenant.objects.get(pk=self.tenant.pk).email_confirmed_at

    def log_in(self):
        client = self.client()
        assert client.post("/login/", {"username": self.email, "password": PASSWORD}).status_code == 302
        return client


@pytest.fixture
def fresh(django_capture_on_commit_callbacks):
    return Fresh(django_capture_on_commit_callbacks)


def test_opening_the_link_only_asks_posting_it_confirms(fresh):
    page = fresh.client().get(fresh.path)
    assert page.status_code == 200 and "Confirm my e-mail address" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin" and "no-cache" in page["Cache-Control"]
    assert fresh.confirmed_at() is None  # a mail scanner opening the link confirms nothing

    done = fresh.confirm()
    assert done.status_code == 200
    assert "Thank you, your e-mail address is confirmed." in done.content.decode()
    assert fresh.confirmed_at() is not None


def test_the_link_works_once(fresh):
    assert fresh.confirm().status_code == 200
    first = fresh.confirmed_at()
    again = fresh.confirm()
    assert again.status_code == 200
    assert "Your e-mail address is confirmed already." in again.content.decode()
    assert "Thank you" not in again.content.decode()
    assert fresh.confirmed_at() == first
    state = confirmation.confirmation_link_state(tenant=fresh.tenant, token=fresh.token)
    assert state == confirmation.LinkState.CONFIRMED


@pytest.mark.clock
def test_the_link_expires_after_seven_days(fresh):
    sent = timezone.now()
    with time_machine.travel(shift(sent, days=7, minutes=1)):
        page = fresh.client().get(fresh.path)
        assert page.status_code == 410 and "This link has expired" in page.content.decode()
        assert fresh.confirm().status_code == 410
        assert fresh.confirmed_at() is None
    with time_machine.travel(shift(sent, days=7, minutes=-1)):
        assert fresh.confirm().status_code == 200
        assert fresh.confirmed_at() is not None
        # Once used, it says so, however old it gets.
    with time_machine.travel(shift(sent, days=30)):
        assert "confirmed already" in fresh.client().get(fresh.path).content.decode()


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _flip(t, len(t) - 1),  # the signature
        lambda t: _flip(t, 3),  # the payload
        lambda t: t.split(":")[0],  # no signature at all
        lambda t: "x" * 400,
    ],
    ids=["signature", "payload", "unsigned", "long"],
)
def test_a_tampered_link_is_refused(fresh, tamper):
    path = f"/confirm-email/{tamper(fresh.token)}/"
    assert fresh.client().get(path).status_code == 404
    response = fresh.confirm(path)
    assert response.status_code == 404 and "not valid" in response.content.decode()
    assert fresh.confirmed_at() is None


def test_a_link_signed_for_another_purpose_or_sent_to_an_old_address_is_refused(fresh):
    payload = {"t": fresh.tenant.pk, "e": confirmation._address_digest(fresh.email), "i": 2 * 10**9}
    foreign = signing.Signer(salt="termino.booking.form").sign_object(payload)
    assert fresh.confirm(f"/confirm-email/{foreign}/").status_code == 404
    # The owner changed the address after the mail went out: the link was for the old one.
    Tenant.objects.filter(pk=fresh.tenant.pk).update(email="neu@salon.example")
    assert fresh.confirm().status_code == 404
    assert fresh.confirmed_at() is None


def test_the_link_of_one_business_does_nothing_at_another(django_capture_on_commit_callbacks):
    one = Fresh(django_capture_on_commit_callbacks, company="Salon Eins")
    other = Fresh(django_capture_on_commit_callbacks, company="Praxis Zwei")
    at_other = other.post(one.path)  # one's link, at the other's host
    assert at_other.status_code == 404 and "not valid" in at_other.content.decode()
    assert "Salon Eins" not in at_other.content.decode()
    assert one.confirmed_at() is None and other.confirmed_at() is None
    # The link still works at its own host, for its own business only.
    assert one.confirm().status_code == 200
    assert one.confirmed_at() is not None and other.confirmed_at() is None


def test_the_backoffice_works_at_once_with_a_banner_until_confirmed(fresh, business_a):
    owner = fresh.log_in()
    home = owner.get("/")
    assert home.status_code == 200
    page = home.content.decode()
    assert "data-email-confirm-banner" in page and fresh.email in page and "Resend link" in page
    assert owner.get("/customers/").status_code == 200
    assert "data-email-confirm-banner" in owner.get("/customers/").content.decode()
    assert fresh.confirm().status_code == 200
    assert "data-email-confirm-banner" not in owner.get("/").content.decode()
    # Confirmed businesses (A, like every business from before) never see it.
    assert "data-email-confirm-banner" not in log_in_as(business_a).get("/").content.decode()


def test_the_banner_sends_a_new_link_a_few_times(fresh, settings):
    settings.SIGNUP_CONFIRM_RESENDS_PER_HOUR = 2
    owner = fresh.log_in()
    mail.outbox.clear()
    for _ in range(2):
        response = fresh.post("/confirm-email/resend/", {"next": "/customers/"}, client=owner, follow=True)
        assert response.redirect_chain[-1][0] == "/customers/"
        assert f"We have sent a new link to {fresh.email}" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[fresh.email]] * 2
    refused = fresh.post("/confirm-email/resend/", client=owner, follow=True).content.decode()
    assert "Please try again in" in refused
    assert len(mail.outbox) == 2
    # The newest link confirms.
    assert fresh.confirm(LINK.search(mail.outbox[-1].body)["path"]).status_code == 200
    assert fresh.confirmed_at() is not None
    done = fresh.post("/confirm-email/resend/", client=owner, follow=True).content.decode()
    assert "Your e-mail address is confirmed already." in done and len(mail.outbox) == 2


def test_resending_needs_a_login_and_goes_only_to_the_business_address(fresh):
    anonymous = fresh.post("/confirm-email/resend/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    owner = fresh.log_in()
    mail.outbox.clear()
    response = fresh.post("/confirm-email/resend/", {"next": "https://evil.example/"}, client=owner)
    assert response["Location"] == "/"
    assert [m.to for m in mail.outbox] == [[fresh.email]]


def test_the_mail_is_in_the_business_language_and_names_the_deadline(django_capture_on_commit_callbacks):
    fresh = Fresh(django_capture_on_commit_callbacks, lang="de")
    message = mail.outbox[-1]
    assert message.subject.startswith("Bitte bestätigen Sie Ihre E-Mail-Adresse")
    assert "Bis zur Bestätigung" in message.body
    deadline = shift(fresh.tenant.activated_at, days=7)
    with translation.override("de"), timezone.override(ZoneInfo(fresh.tenant.time_zone)):
        assert formats.date_format(timezone.localtime(deadline), "DATE_FORMAT") in message.body


def test_the_routing_cache_learns_of_the_confirmation(fresh):
    """The booking gate reads the routing cache's copy of the business: it must not stay unconfirmed."""
    assert "not available yet" in fresh.client().get("/book/").content.decode()
    assert fresh.confirm().status_code == 200
    assert "not available yet" not in fresh.client().get("/book/").content.decode()
