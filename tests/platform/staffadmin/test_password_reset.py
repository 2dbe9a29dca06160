"""Forgotten passwords of platform staff at /staff/: the link sets the password only; the TOTP code is still
asked for at the next sign-in, and both steps are in the staff audit log."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import TestCase
from django_otp.plugins.otp_totp.models import TOTPDevice

from termino.celery import app as celery_app
from termino.platform.staffadmin.models import ActionKind, StaffAction
from termino.tenants.accounts.models import LoginEvent, LoginOutcome
from tests.conftest import PASSWORD, client_for

from .conftest import code, device_of, make_staff, sign_in, staff_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Leuchtturm-Kante-2027"
LINK = re.compile(r"https?://\S+/staff/login/reset/[\w-]+/[\w-]+/")


@pytest.fixture(autouse=True)
def eager_tasks():
    before = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


def ask(address, *, ip="203.0.113.8", client=None):
    client = client or staff_client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/staff/login/forgot/", {"email": address}, REMOTE_ADDR=ip)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def reset(link: str, password: str = NEW_PASSWORD):
    client = staff_client()
    opened = client.get(path_of(link))
    assert opened.status_code == 302, opened.status_code
    return client, client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_the_sign_in_links_to_the_reset():
    page = staff_client().get("/staff/login/").content.decode()
    assert 'href="/staff/login/forgot/"' in page
    form = staff_client().get("/staff/login/forgot/")
    assert form.status_code == 200 and "authenticator app" in form.content.decode()


def test_same_answer_for_staff_and_everyone_else_and_a_mail_only_for_staff(staff, business_a, mailoutbox):
    not_staff = get_user_model().objects.create_user(
        username="kim", email="kim@termino.example", password=PASSWORD
    )
    owner_elsewhere = business_a.owner_username  # a business's login: unknown on the platform host
    answers = [ask(a) for a in (staff.email, not_staff.email, owner_elsewhere, "nobody@termino.example")]
    assert {(r.status_code, r["Location"], r.content) for r in answers} == {
        (302, "/staff/login/forgot/sent/", b"")
    }
    (message,) = mailoutbox
    assert message.to == [staff.email]
    link = LINK.search(message.body).group(0)
    assert link.startswith(f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}")
    assert "Termino platform staff" in message.subject
    sent = staff_client().get("/staff/login/forgot/sent/")
    assert sent.status_code == 200 and "Check your inbox" in sent.content.decode()
    # Every request is in the public schema's login audit; the staff member's also in the staff audit log.
    assert LoginEvent.objects.filter(outcome=LoginOutcome.RESET_REQUESTED).count() == 4
    (requested,) = StaffAction.objects.filter(action=ActionKind.PASSWORD_RESET_REQUESTED)
    assert (requested.staff_id, requested.ip) == (staff.pk, "203.0.113.8")
    assert not_staff.pk not in set(StaffAction.objects.values_list("staff_id", flat=True))


def test_the_reset_sets_the_password_only_and_the_code_is_still_asked_for(staff, mailoutbox):
    device = device_of(staff)
    ask(staff.email)
    client, posted = reset(LINK.search(mailoutbox[0].body).group(0))
    assert posted.status_code == 302 and posted["Location"] == "/staff/login/"
    page = client.get("/staff/login/").content.decode()
    assert "Your new password is set. Sign in with it and the code from your authenticator app." in page
    # Not signed in: the staff pages send to the sign-in.
    assert client.get("/staff/").status_code == 302
    # The new password leads to the code step, not into the staff admin.
    step = client.post("/staff/login/", {"username": staff.username, "password": NEW_PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/staff/login/code/"
    assert client.get("/staff/").status_code == 302
    assert "Two-factor code" in client.get("/staff/login/code/").content.decode()
    signed_in = client.post("/staff/login/code/", {"code": code(device)})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    # The same device as before: the reset neither removed nor replaced it.
    assert list(TOTPDevice.objects.filter(user=staff).values_list("pk", flat=True)) == [device.pk]


def test_the_link_works_once_and_the_reset_is_audited_and_ends_other_sessions(staff, mailoutbox):
    _user, signed_in = staff, sign_in(staff)
    assert signed_in.get("/staff/").status_code == 200
    ask(staff.email)
    link = LINK.search(mailoutbox[0].body).group(0)
    _client, posted = reset(link)
    assert posted.status_code == 302
    assert signed_in.get("/staff/").status_code == 302  # the other session has ended
    again = staff_client().get(path_of(link))
    assert again.status_code == 404 and "This link is not valid (any more)" in again.content.decode()
    (done,) = StaffAction.objects.filter(action=ActionKind.PASSWORD_RESET)
    assert (done.staff_id, done.ip) == (staff.pk, "127.0.0.1")
    (event,) = LoginEvent.objects.filter(outcome=LoginOutcome.PASSWORD_RESET)
    assert event.user_id == staff.pk
    audit = sign_in(make_staff(name="Otto Oben")).get("/staff/audit/").content.decode()
    assert "New password requested" in audit and "Password reset" in audit


def test_inactive_or_demoted_staff_get_no_mail_and_their_links_stop_working(mailoutbox):
    leaving, demoted = make_staff(), make_staff()
    ask(leaving.email)
    ask(demoted.email)
    links = [LINK.search(m.body).group(0) for m in mailoutbox]
    get_user_model().objects.filter(pk=leaving.pk).update(is_active=False)
    get_user_model().objects.filter(pk=demoted.pk).update(is_staff=False)
    for link in links:
        assert staff_client().get(path_of(link)).status_code == 404
    mailoutbox.clear()
    ask(leaving.email)
    ask(demoted.email)
    assert mailoutbox == []


def test_the_password_validators_apply(staff, mailoutbox):
    ask(staff.email)
    client = staff_client()
    form_url = client.get(path_of(LINK.search(mailoutbox[0].body).group(0)))["Location"]
    weak = client.post(form_url, {"new_password1": "ops1termino", "new_password2": "ops1termino"})
    assert weak.status_code == 400
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_the_pages_exist_on_the_platform_host_only(business_a, staff, mailoutbox):
    at_business = client_for(business_a.host, "en")
    assert at_business.get("/staff/login/forgot/").status_code == 404
    # A business's reset page does not reach platform staff either: they are not its logins.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert at_business.post("/password/forgot/", {"email": staff.email}).status_code == 302
    assert mailoutbox == []


def test_a_signed_in_staff_member_can_use_the_link_in_the_same_browser(staff, mailoutbox):
    client = sign_in(staff)
    ask(staff.email, client=client)
    opened = client.get(path_of(LINK.search(mailoutbox[0].body).group(0)))
    posted = client.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert posted.status_code == 302 and posted["Location"] == "/staff/login/"
    page = client.get("/staff/login/").content.decode()
    assert "Your new password is set." in page
    assert client.get("/staff/").status_code == 302  # signed out: password and code again
