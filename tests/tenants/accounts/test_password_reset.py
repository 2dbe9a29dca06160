"""Forgotten passwords at a business's own host: a one-time, short-lived e-mailed link.

Mails go out from a Celery task (run eagerly here, in the request's thread), so the request does the same
work for a known and an unknown address.
"""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.db import connection, connections
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.celery import app as celery_app
from termino.platform.tenancy.models import Domain
from termino.tenants.accounts.models import LoginEvent, LoginOutcome, User
from termino.tenants.accounts.tokens import reset_tokens
from tests.conftest import PASSWORD, client_for, unique_slug
from tests.tenants.backoffice.helpers import log_in_as, make_user

NEW_PASSWORD = "Laterne-Fluss-4711"
LINK = re.compile(r"https?://\S+/password/reset/[\w-]+/[\w-]+/")


@pytest.fixture(autouse=True)
def eager_tasks():
    """The mail task runs in the thread that queued it, so its mail is in this process's outbox."""
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def ask(business, address, *, ip="203.0.113.7", language="en", client=None, host=None):
    """Ask for a link; the mail task queued on commit runs (the test's transaction never commits)."""
    client = client or client_for(host or business.host, language)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/password/forgot/", {"email": address}, REMOTE_ADDR=ip)


def link_in(message) -> str:
    return LINK.search(message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def set_password(business, link, password=NEW_PASSWORD, *, client=None):
    """Open the link and submit the new password; returns (client, the form post's response)."""
    client = client or client_for(business.host, "en")
    opened = client.get(path_of(link))
    assert opened.status_code == 302 and opened["Location"].endswith("/set-password/"), opened.status_code
    form = client.get(opened["Location"])
    assert form.status_code == 200
    posted = client.post(opened["Location"], {"new_password1": password, "new_password2": password})
    return client, posted


def events(business, outcome):
    with schema_context(business.schema):
        return list(LoginEvent.objects.filter(outcome=outcome).order_by("id"))


# --- Asking for a link ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_links_to_the_reset(business_a):
    page = client_for(business_a.host, "en").get("/login/").content.decode()
    assert 'href="/password/forgot/"' in page and "Forgot your password?" in page
    german = client_for(business_a.host, "de").get("/password/forgot/").content.decode()
    assert "Passwort vergessen?" in german and "Link senden" in german


@pytest.mark.django_db
def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_a_mail(
    business_a, mailoutbox, django_capture_on_commit_callbacks
):
    ask(business_a, "warm-up@alpha-salon.example")  # host routing and other caches filled
    mailoutbox.clear()
    answers, queries, callbacks = [], [], []
    for address in (business_a.owner_username, "nobody@alpha-salon.example"):
        client = client_for(business_a.host, "en")
        with django_capture_on_commit_callbacks() as queued, CaptureQueriesContext(connection) as ran:
            answers.append(client.post("/password/forgot/", {"email": address}, REMOTE_ADDR="203.0.113.7"))
        queries.append(len(ran.captured_queries))
        callbacks += queued
    known, unknown = answers
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password/forgot/sent/"
    assert known.content == unknown.content
    assert sorted(known.cookies) == sorted(unknown.cookies)
    # The same work in the request: the address is looked up only by the task, after the answer.
    assert queries[0] == queries[1]
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    (message,) = mailoutbox
    assert message.to == [business_a.owner_username]
    sent = client_for(business_a.host, "en").get(known["Location"])
    assert sent.status_code == 200 and "Check your inbox" in sent.content.decode()


@pytest.mark.django_db
def test_every_request_is_in_the_login_audit_with_its_address_and_ip(business_a, mailoutbox):
    ask(business_a, business_a.owner_username.upper(), ip="198.51.100.23")
    ask(business_a, "nobody@alpha-salon.example", ip="198.51.100.24")
    known, unknown = events(business_a, LoginOutcome.RESET_REQUESTED)
    assert (known.username, known.ip_address) == (business_a.owner_username, "198.51.100.23")
    assert known.user is not None and known.user.role == "owner"
    assert (unknown.username, unknown.ip_address, unknown.user) == (
        "nobody@alpha-salon.example",
        "198.51.100.24",
        None,
    )


@pytest.mark.django_db
def test_the_mail_links_to_the_business_own_address_in_the_person_language(business_a, mailoutbox, settings):
    settings.SITE_SCHEME, settings.SITE_PORT = "https", ""
    with schema_context(business_a.schema):
        User.objects.filter(username=business_a.owner_username).update(language="de")
    # Asked at another of the business's domains: the link still uses the primary Domain row.
    Domain.objects.create(domain="termine.alpha-salon.example", tenant=business_a.tenant, is_primary=False)
    ask(business_a, business_a.owner_username, host="termine.alpha-salon.example")
    (message,) = mailoutbox
    assert link_in(message).startswith(f"https://{business_a.host}/password/reset/")
    assert message.subject == "Ein neues Passwort für Alpha Salon"
    assert "funktioniert einmal und 60 Minuten lang" in message.body
    with schema_context(business_a.schema):
        User.objects.filter(username=business_a.owner_username).update(language="")
    ask(business_a, business_a.owner_username, language="en")
    assert mailoutbox[1].subject == "A new password for Alpha Salon"


@pytest.mark.django_db
def test_staff_members_and_managers_can_reset_too_but_not_deactivated_people(business_a, mailoutbox):
    staff = make_user(business_a, "staff")
    manager = make_user(business_a, "manager")
    gone = make_user(business_a, "staff")
    with schema_context(business_a.schema):
        User.objects.filter(pk=gone.pk).update(is_active=False)
    for user in (staff, manager, gone):
        ask(business_a, user.username)
    assert [m.to for m in mailoutbox] == [[staff.username], [manager.username]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please enter the e-mail address you log in with."),
        ({"email": "anna"}, "Please enter a complete e-mail address"),
        ({"email": "a" * 250 + "@example.com"}, "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_input_is_a_400_with_a_sentence_and_nothing_recorded(business_a, mailoutbox, data, message):
    response = client_for(business_a.host, "en").post("/password/forgot/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert events(business_a, LoginOutcome.RESET_REQUESTED) == [] and mailoutbox == []


# --- The link --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_link_sets_a_new_password_once_and_logs_the_person_in(business_a, mailoutbox):
    ask(business_a, business_a.owner_username)
    link = link_in(mailoutbox[0])
    client, posted = set_password(business_a, link)
    assert posted.status_code == 302 and posted["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Your new password is set. You are logged in." in home.content.decode()
    # The new password is the password now.
    fresh = client_for(business_a.host, "en")
    assert (
        fresh.post("/login/", {"username": business_a.owner_username, "password": PASSWORD}).status_code
        == 200
    )
    ok = fresh.post("/login/", {"username": business_a.owner_username, "password": NEW_PASSWORD})
    assert ok.status_code == 302
    # A second time, the same link does nothing: whether opened again or its form posted again.
    again = client_for(business_a.host, "en").get(path_of(link))
    assert again.status_code == 404 and "This link is not valid (any more)" in again.content.decode()
    replay = client.post(
        path_of(link).replace(link.rstrip("/").rsplit("/", 1)[1], "set-password"),
        {"new_password1": "Anders-Wort-0815", "new_password2": "Anders-Wort-0815"},
    )
    assert replay.status_code == 404
    with schema_context(business_a.schema):
        assert User.objects.get(username=business_a.owner_username).check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_two_tabs_posting_one_link_set_the_password_once(business_a, mailoutbox):
    ask(business_a, business_a.owner_username)
    link = link_in(mailoutbox[0])
    tabs = []
    for _ in range(2):
        client = client_for(business_a.host, "en")
        opened = client.get(path_of(link))
        tabs.append((client, opened["Location"]))
    first = tabs[0][0].post(tabs[0][1], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    second = tabs[1][0].post(
        tabs[1][1], {"new_password1": "Anders-Wort-0815", "new_password2": "Anders-Wort-0815"}
    )
    assert (first.status_code, second.status_code) == (302, 404)
    with schema_context(business_a.schema):
        assert User.objects.get(username=business_a.owner_username).check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_the_password_validators_apply(business_a, mailoutbox):
    ask(business_a, business_a.owner_username)
    link = link_in(mailoutbox[0])
    client = client_for(business_a.host, "en")
    form_url = client.get(path_of(link))["Location"]
    for weak, message in (
        ("12345678901", "The password must not consist of digits only."),
        ("kurz", "too short"),
    ):
        response = client.post(form_url, {"new_password1": weak, "new_password2": weak})
        assert response.status_code == 400 and message in response.content.decode()
    mismatch = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    with schema_context(business_a.schema):
        assert User.objects.get(username=business_a.owner_username).check_password(PASSWORD)
    # Refused passwords do not use the link up.
    assert (
        client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code
        == 302
    )


@pytest.mark.django_db
@pytest.mark.clock
def test_an_expired_link_is_refused_with_410(business_a, mailoutbox):
    ask(business_a, business_a.owner_username)
    link = link_in(mailoutbox[0])
    timeout = settings.PASSWORD_RESET_TIMEOUT
    with time_machine.travel(timezone.now() + timedelta(seconds=timeout - 60), tick=False):
        assert client_for(business_a.host, "en").get(path_of(link)).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(seconds=timeout + 2), tick=False):
        response = client_for(business_a.host, "en").get(path_of(link))
        assert response.status_code == 410
        page = response.content.decode()
        assert "This link has expired" in page and 'href="/password/forgot/"' in page
    # Opened in time, submitted too late: refused as well.
    client = client_for(business_a.host, "en")
    form_url = client.get(path_of(link))["Location"]
    with time_machine.travel(timezone.now() + timedelta(seconds=timeout + 2), tick=False):
        late = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert late.status_code == 410
    with schema_context(business_a.schema):
        assert User.objects.get(username=business_a.owner_username).check_password(PASSWORD)


@pytest.mark.django_db
def test_a_link_of_business_a_does_nothing_at_business_b(business_a, business_b, mailoutbox):
    """Same user id, same password hash, same address, no last login: only the schema tells them apart."""
    with schema_context(business_a.schema):
        owner_a = User.objects.get(role="owner")
        User.objects.filter(pk=owner_a.pk).update(last_login=None)
    with schema_context(business_b.schema):
        owner_b = User.objects.get(role="owner")
        assert owner_b.pk == owner_a.pk and owner_b.password == owner_a.password
        User.objects.filter(pk=owner_b.pk).update(email=owner_a.email, last_login=None)
        owner_b.refresh_from_db()
    ask(business_a, business_a.owner_username)
    link = link_in(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Django's own generator could not tell the two apart; ours binds the token to the schema.
    with schema_context(business_a.schema):
        assert reset_tokens.check_token(User.objects.get(pk=owner_a.pk), token)
        plain = PasswordResetTokenGenerator().make_token(User.objects.get(pk=owner_a.pk))
    with schema_context(business_b.schema):
        assert PasswordResetTokenGenerator().check_token(owner_b, plain)
        assert not reset_tokens.check_token(owner_b, token)

    at_b = client_for(business_b.host, "en")
    response = at_b.get(path_of(link))
    assert response.status_code == 404 and "Alpha" not in response.content.decode()
    form_path = path_of(link).replace(token, "set-password")
    posted = at_b.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert posted.status_code == 404
    with schema_context(business_b.schema):
        assert User.objects.get(pk=owner_b.pk).password == owner_b.password
        assert not LoginEvent.objects.filter(outcome=LoginOutcome.PASSWORD_RESET).exists()
    # At A, the link still works: B's refusal used nothing up.
    assert client_for(business_a.host, "en").get(path_of(link)).status_code == 302


@pytest.mark.django_db
def test_a_broken_link_is_a_404(business_a):
    client = client_for(business_a.host, "en")
    for path in (
        "/password/reset/MQ/abc-def/",
        "/password/reset/zzzz/1-2/",
        "/password/reset/MQ/set-password/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Ask for a new link" in response.content.decode()


# --- After the reset -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reset_logs_out_every_other_session_and_is_audited(business_a, mailoutbox):
    laptop = log_in_as(business_a, "owner")
    phone = log_in_as(business_a, "owner")
    assert laptop.get("/").status_code == 200 and phone.get("/").status_code == 200
    with schema_context(business_a.schema):
        owner = User.objects.get(role="owner")

    ask(business_a, business_a.owner_username, ip="198.51.100.40")
    client, posted = set_password(business_a, link_in(mailoutbox[0]))
    assert posted.status_code == 302

    for other in (laptop, phone):
        response = other.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/").status_code == 200  # the one that reset stays logged in
    with schema_context(business_a.schema):
        sessions = [s.get_decoded().get(SESSION_KEY) for s in Session.objects.all()]
        assert sessions.count(str(owner.pk)) == 1
    (reset,) = events(business_a, LoginOutcome.PASSWORD_RESET)
    assert (reset.user_id, reset.username) == (owner.pk, business_a.owner_username)
    assert reset.ip_address == "127.0.0.1"  # the test client's address
    (requested,) = events(business_a, LoginOutcome.RESET_REQUESTED)
    assert requested.ip_address == "198.51.100.40"
    assert events(business_a, LoginOutcome.SUCCESS)[-1].user_id == owner.pk  # and the login that followed


@pytest.mark.django_db
def test_the_owner_sees_resets_in_the_login_history(business_a, mailoutbox):
    ask(business_a, business_a.owner_username)
    set_password(business_a, link_in(mailoutbox[0]))
    client = client_for(business_a.host, "en")
    client.post("/login/", {"username": business_a.owner_username, "password": NEW_PASSWORD})
    page = client.get("/account/logins/").content.decode()
    assert "New password requested" in page and "Password reset" in page


@pytest.mark.django_db
def test_a_locked_out_person_is_offered_the_reset_and_logged_in_after_it(business_a, mailoutbox):
    client = client_for(business_a.host, "en")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": business_a.owner_username, "password": "wrong-password-1"})
    locked = client.post("/login/", {"username": business_a.owner_username, "password": PASSWORD})
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'href="/password/forgot/"' in page and "ask the owner" not in page
    ask(business_a, business_a.owner_username, ip="127.0.0.1", client=client)
    _client, posted = set_password(business_a, link_in(mailoutbox[0]), client=client)
    assert posted.status_code == 302 and client.get("/").status_code == 200


# --- Rate limits, under real concurrency ---------------------------------------------------------------


def _concurrently(host: str, bodies: list[dict], *, ip: str) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []

    def attempt(body: dict) -> None:
        try:
            client = client_for(host, "en")
            barrier.wait()
            codes.append(client.post("/password/forgot/", body, REMOTE_ADDR=ip).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return codes


def test_fifty_concurrent_requests_for_one_address_send_exactly_the_limit(committed_db, mailoutbox, settings):
    settings.PASSWORD_RESET_PER_ADDRESS, settings.PASSWORD_RESET_PER_IP = 3, 1000
    business = committed_db(unique_slug())
    codes = _concurrently(business.host, [{"email": business.owner_username}] * 50, ip="203.0.113.50")
    assert sorted(codes) == [302] * 3 + [429] * 47
    assert len(mailoutbox) == 3 and {m.to[0] for m in mailoutbox} == {business.owner_username}
    assert len(events(business, LoginOutcome.RESET_REQUESTED)) == 3


def test_fifty_concurrent_requests_from_one_ip_get_exactly_the_limit_through(
    committed_db, mailoutbox, settings
):
    settings.PASSWORD_RESET_PER_ADDRESS, settings.PASSWORD_RESET_PER_IP = 1000, 10
    business = committed_db(unique_slug())
    bodies = [{"email": business.owner_username}] + [{"email": f"n{i}@x.example"} for i in range(49)]
    codes = _concurrently(business.host, bodies, ip="203.0.113.51")
    assert sorted(codes) == [302] * 10 + [429] * 40
    assert len(events(business, LoginOutcome.RESET_REQUESTED)) == 10
    assert len(mailoutbox) <= 1  # the owner's one, if it was among the ten


@pytest.mark.django_db
def test_the_limit_page_says_when_to_try_again(business_a, mailoutbox, settings):
    settings.PASSWORD_RESET_PER_ADDRESS = 1
    assert ask(business_a, business_a.owner_username).status_code == 302
    refused = ask(business_a, business_a.owner_username, ip="198.51.100.9")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    assert "Please try again in 60 minutes." in refused.content.decode()
    # Another address is counted on its own.
    assert ask(business_a, "other@alpha-salon.example").status_code == 302
    german = ask(business_a, business_a.owner_username, language="de")
    assert (
        german.status_code == 429
        and "Bitte versuchen Sie es in 60 Minuten erneut." in german.content.decode()
    )
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_logged_in_person_can_use_the_link_in_the_same_browser(business_a, mailoutbox):
    client = log_in_as(business_a, "owner")
    ask(business_a, business_a.owner_username, client=client)
    _client, posted = set_password(business_a, link_in(mailoutbox[0]), client=client)
    assert posted.status_code == 302 and client.get("/").status_code == 200
