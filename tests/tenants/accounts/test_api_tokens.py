"""API tokens (accounts.ApiToken): hashed at rest, named, expiring, listed and revocable on the account
page, ended by a password change or deactivation, last use written at most once a minute, and a
locked-out token login answered with 429."""

import hashlib
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.accounts import services, token_memory
from termino.tenants.accounts.models import ApiToken, Role, User
from tests.conftest import PASSWORD, client_for
from tests.shared.db.support import prepared_statements
from tests.tenants.backoffice.helpers import log_in_as, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sonnen-Uhr-Zeit-77"
WRONG = "wrong-password-1"


def obtain(business, username=None, password=PASSWORD, *, language="en", **extra):
    data = {"username": username or business.owner_username, "password": password}
    if "name" in extra:
        data["name"] = extra.pop("name")
    return client_for(business.host, language).post("/api/v1/auth/token/", data, **extra)


def key_of(business, username=None, **extra) -> str:
    response = obtain(business, username, **extra)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api_get(business, key: str, path: str = "/api/v1/services/"):
    return client_for(business.host, "en").get(path, HTTP_AUTHORIZATION=f"Token {key}")


def tokens_of(business, user_id: int) -> list[ApiToken]:
    with schema_context(business.schema):
        return list(ApiToken.objects.filter(user_id=user_id).order_by("created_at", "id"))


def owner_of(business) -> User:
    with schema_context(business.schema):
        return User.objects.get(role=Role.OWNER)


# --- The token endpoint ------------------------------------------------------------------------------


def test_the_endpoint_answers_a_new_named_key_with_its_expiry(business_a):
    response = obtain(business_a, name="  Website   sync ")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "name", "expires_at"}
    assert body["token"].startswith(ApiToken.PREFIX) and body["name"] == "Website sync"
    expected = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    assert abs(datetime.fromisoformat(body["expires_at"]) - expected) < timedelta(minutes=1)
    assert api_get(business_a, body["token"]).status_code == 200
    # Every call makes another token; the first one keeps working.
    second = key_of(business_a)
    assert second != body["token"]
    assert (
        api_get(business_a, second).status_code == 200
        and api_get(business_a, body["token"]).status_code == 200
    )
    assert len(tokens_of(business_a, owner_of(business_a).pk)) == 2


def test_a_token_without_a_name_is_named_after_the_client(business_a):
    assert (
        obtain(business_a, HTTP_USER_AGENT="sync-script/1.0 (+cron)").json()["name"]
        == "sync-script/1.0 (+cron)"
    )
    assert obtain(business_a).json()["name"] == "API token"
    assert obtain(business_a, language="de").json()["name"] == "API-Token"


def test_wrong_passwords_get_a_400_and_no_token(business_a):
    response = obtain(business_a, password=WRONG)
    assert response.status_code == 400 and "token" not in response.json()
    assert response.json()["non_field_errors"] == ["Unable to log in with provided credentials."]
    assert obtain(business_a, username=" ").status_code == 400
    assert tokens_of(business_a, owner_of(business_a).pk) == []


def test_the_database_holds_no_usable_key(business_a):
    key = key_of(business_a, name="Kasse")
    owner = owner_of(business_a)
    with schema_context(business_a.schema), connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM accounts_apitoken t")
        rows = [row[0] for row in cursor.fetchall()]
    secret = key.removeprefix(ApiToken.PREFIX)
    assert rows and not any(secret in row for row in rows)
    (token,) = tokens_of(business_a, owner.pk)
    assert token.token_hash == hashlib.sha256(key.encode()).hexdigest()
    # What the database holds opens nothing.
    assert api_get(business_a, token.token_hash).status_code == 401
    assert api_get(business_a, ApiToken.PREFIX + token.token_hash).status_code == 401
    assert api_get(business_a, key).status_code == 200


def test_an_old_plaintext_key_is_told_to_get_a_new_one(business_a):
    response = api_get(business_a, "0123456789abcdef0123456789abcdef01234567")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert "/api/v1/auth/token/" in response.json()["detail"]
    german = client_for(business_a.host, "de").get(
        "/api/v1/services/", HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567"
    )
    assert "nicht mehr" in german.json()["detail"]


@override_settings(API_TOKENS_PER_USER=2)
def test_a_person_has_a_bounded_number_of_tokens(business_a):
    key_of(business_a)
    key_of(business_a)
    refused = obtain(business_a)
    assert refused.status_code == 400 and "Revoke" in refused.json()["detail"]
    page = log_in_as(business_a).post("/account/tokens/", {"name": "Drei"})
    assert page.status_code == 400 and "as many as a person may have" in page.content.decode()
    assert len(tokens_of(business_a, owner_of(business_a).pk)) == 2


def test_a_token_login_is_in_the_login_history(business_a):
    from termino.tenants.accounts.models import LoginEvent

    key_of(business_a, HTTP_USER_AGENT="sync-script/1.0")
    obtain(business_a, password=WRONG)
    with schema_context(business_a.schema):
        events = list(LoginEvent.objects.order_by("created_at", "id").values_list("outcome", "user_agent"))
    assert events == [("success", "sync-script/1.0"), ("failure", "")]


# --- Ended by a password change, a reset, a deactivation ---------------------------------------------


def test_a_password_change_on_the_page_ends_every_token(business_a):
    first, second = key_of(business_a), key_of(business_a)
    client = log_in_as(business_a)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    for key in (first, second):
        refused = api_get(business_a, key)
        assert refused.status_code == 401 and refused.json()["detail"] == "Invalid token."
    assert tokens_of(business_a, owner_of(business_a).pk) == []
    assert api_get(business_a, key_of(business_a, password=NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "how",
    ["service", "set_password", "reset_form", "set_unusable_password", "deactivate", "deactivate_service"],
)
def test_every_save_of_a_new_password_or_a_deactivation_ends_the_tokens(business_a, how):
    """The safety net in User.save: a password reset (SetPasswordForm, as Django's reset view uses) or
    any other code that saves a new hash or deactivates needs no call of its own."""
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    other = key_of(business_a)  # the owner's: untouched
    with schema_context(business_a.schema):
        user = User.objects.get(pk=member.pk)
        if how == "service":
            services.user_password_change(user=user, password=NEW_PASSWORD)
        elif how == "set_password":
            user.set_password(NEW_PASSWORD)
            user.save()
        elif how == "reset_form":
            form = SetPasswordForm(user, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
            assert form.is_valid(), form.errors
            form.save()
        elif how == "set_unusable_password":
            user.set_unusable_password()
            user.save(update_fields=["password"])
        elif how == "deactivate":
            user.is_active = False
            user.save(update_fields=["is_active"])
        else:
            services.user_deactivate(member=user, acting_user=User.objects.get(role=Role.OWNER))
    assert tokens_of(business_a, member.pk) == []
    assert api_get(business_a, key).status_code == 401
    assert api_get(business_a, other).status_code == 200


def test_other_saves_keep_the_tokens(business_a):
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    with schema_context(business_a.schema):
        user = User.objects.get(pk=member.pk)
        user.first_name = "Renamed"
        user.save()
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        partial = User.objects.only("id", "first_name").get(pk=member.pk)  # password not loaded
        partial.first_name = "Again"
        partial.save(update_fields=["first_name"])
        User.objects.get(pk=member.pk).save()  # saved unchanged
        # Changed elsewhere, then refreshed and saved here: this save writes no new password.
        stale = User.objects.get(pk=member.pk)
        User.objects.filter(pk=member.pk).update(password=make_password(PASSWORD))
        stale.refresh_from_db()
        stale.first_name = "Refreshed"
        stale.save()
    assert len(tokens_of(business_a, member.pk)) == 1
    assert api_get(business_a, key).status_code == 200


def test_a_hash_upgrade_at_login_is_no_password_change(business_a):
    """Logging in re-hashes a password stored with an older hasher: the same password, tokens stay."""
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    with schema_context(business_a.schema):
        User.objects.filter(pk=member.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    second = key_of(business_a, member.username)  # the token login upgrades the hash
    log_in_as(business_a, user=member)  # and so would the login page
    with schema_context(business_a.schema):
        assert User.objects.get(pk=member.pk).password.startswith("argon2")
    assert api_get(business_a, key).status_code == 200 and api_get(business_a, second).status_code == 200


def test_a_deactivated_persons_token_is_refused_even_if_a_row_survived(business_a):
    """Deactivation through a bulk update skips User.save; the check at every request still holds."""
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    with schema_context(business_a.schema):
        User.objects.filter(pk=member.pk).update(is_active=False)
    assert api_get(business_a, key).status_code == 401


# --- Expiry ------------------------------------------------------------------------------------------


@pytest.mark.clock
def test_a_token_stops_working_when_it_expires(business_a):
    key = key_of(business_a, name="Kasse")
    owner = owner_of(business_a)
    (token,) = tokens_of(business_a, owner.pk)
    assert token.expires_at == timeutils.shift(token.created_at, days=settings.API_TOKEN_DAYS)
    with time_machine.travel(timeutils.shift(token.expires_at, minutes=-1), tick=False):
        assert api_get(business_a, key).status_code == 200
    with time_machine.travel(timeutils.shift(token.expires_at, seconds=1), tick=False):
        refused = api_get(business_a, key)
        assert refused.status_code == 401 and "expired" in refused.json()["detail"]
        page = log_in_as(business_a).get("/account/tokens/").content.decode()
        assert "Kasse" in page and "Expired" in page and ">Remove<" in page.replace("<span", "<")
        # A new token clears away the expired ones.
        fresh = key_of(business_a)
        assert [t.pk for t in tokens_of(business_a, owner.pk)] != [token.pk]
        assert len(tokens_of(business_a, owner.pk)) == 1 and api_get(business_a, fresh).status_code == 200


# --- Last use: at most one write a minute -------------------------------------------------------------


def _token_updates(queries) -> int:
    """Statements that may write a token: the UPDATE of a remembered token's last use, and the statement
    that reads a token afresh and marks it (its UPDATE inside WITH)."""
    update = re.compile(r'UPDATE ("[^"]+"\.)?"?accounts_apitoken\b')
    return sum(1 for q in queries.captured_queries if update.search(q["sql"]))


def test_the_last_use_is_written_at_most_once_a_minute(business_a):
    key = key_of(business_a)
    owner = owner_of(business_a)
    assert tokens_of(business_a, owner.pk)[0].last_used_at is None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert api_get(business_a, key).status_code == 200
    assert _token_updates(queries) == 1
    first_use = tokens_of(business_a, owner.pk)[0].last_used_at
    assert first_use is not None
    with time_machine.travel(timeutils.shift(first_use, seconds=59), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert api_get(business_a, key).status_code == 200
        assert _token_updates(queries) == 0
    later = timeutils.shift(first_use, seconds=61)
    with time_machine.travel(later, tick=False):
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                assert api_get(business_a, key).status_code == 200
        assert _token_updates(queries) == 1
    assert tokens_of(business_a, owner.pk)[0].last_used_at == later


# --- The account page: one's own tokens, and only those ----------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_every_role_has_the_page(business_a, role):
    member = make_user(business_a, role, staff_name="Stuhl 9" if role == Role.STAFF else None)
    key_of(business_a, member.username, name=f"{role} script")
    client = log_in_as(business_a, user=member)
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    assert f"{role} script" in page.content.decode()
    assert 'href="/account/tokens/"' in client.get("/account/password/").content.decode()


def test_a_person_sees_and_revokes_only_their_own_tokens(business_a):
    owner_key = key_of(business_a, name="Owner sync")
    manager = make_user(business_a, Role.MANAGER)
    manager_key = key_of(business_a, manager.username, name="Manager script")
    (owner_token,) = tokens_of(business_a, owner_of(business_a).pk)

    owner_client = log_in_as(business_a)
    manager_client = log_in_as(business_a, user=manager)
    owner_page = owner_client.get("/account/tokens/").content.decode()
    manager_page = manager_client.get("/account/tokens/").content.decode()
    assert "Owner sync" in owner_page and "Manager script" not in owner_page
    assert "Manager script" in manager_page and "Owner sync" not in manager_page
    assert 'href="/account/tokens/"' in owner_client.get("/account/").content.decode()

    # Someone else's token is not found, and stays.
    assert manager_client.post(f"/account/tokens/{owner_token.pk}/revoke/").status_code == 404
    assert api_get(business_a, owner_key).status_code == 200
    assert manager_client.get(f"/account/tokens/{owner_token.pk}/revoke/").status_code == 405

    response = owner_client.post(f"/account/tokens/{owner_token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/account/tokens/", 302)]
    assert "The API token “Owner sync” has been revoked." in response.content.decode()
    assert "You have no API tokens." in response.content.decode()
    assert api_get(business_a, owner_key).status_code == 401
    assert api_get(business_a, manager_key).status_code == 200
    assert owner_client.post(f"/account/tokens/{owner_token.pk}/revoke/").status_code == 404  # gone


def test_a_token_made_on_the_page_is_shown_once(business_a):
    client = log_in_as(business_a, language="de")
    response = client.post("/account/tokens/", {"name": "Tabelle"})
    assert response.status_code == 200
    html = response.content.decode()
    key = re.search(r'id="token-key">([^<]+)<', html).group(1)
    assert "Ihr neuer API-Token „Tabelle“" in html and "nur dieses eine Mal" in html
    assert api_get(business_a, key).status_code == 200
    again = client.get("/account/tokens/").content.decode()
    assert "Tabelle" in again and key not in again
    # No name: "API token" in the person's language.
    client.post("/account/tokens/", {"name": ""})
    assert [t.name for t in tokens_of(business_a, owner_of(business_a).pk)] == ["Tabelle", "API-Token"]


def test_the_page_needs_a_login_of_this_business(business_a, business_b):
    key = key_of(business_a, name="Nur A")
    (token,) = tokens_of(business_a, owner_of(business_a).pk)
    assert client_for(business_a.host).get("/account/tokens/")["Location"].startswith("/login/")
    # B's owner, at B, with A's token id: not found; A's key at B's host: unknown.
    b_client = log_in_as(business_b)
    assert b_client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert "Nur A" not in b_client.get("/account/tokens/").content.decode()
    assert api_get(business_b, key).status_code == 401
    assert api_get(business_a, key).status_code == 200


# --- Lockout ------------------------------------------------------------------------------------------


def test_a_token_login_resets_the_failure_count_as_the_login_page_does(business_a):
    below = settings.AXES_FAILURE_LIMIT - 1
    assert [obtain(business_a, password=WRONG).status_code for _ in range(below)] == [400] * below
    assert obtain(business_a).status_code == 200
    assert [obtain(business_a, password=WRONG).status_code for _ in range(below)] == [400] * below


def test_a_locked_out_token_login_answers_429_with_retry_after(business_a):
    codes = [obtain(business_a, password=WRONG).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    refused = obtain(business_a)  # the right password, while locked out
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    assert "token" not in refused.json() and "Too many failed logins" in refused.json()["detail"]
    assert "Zu viele" in obtain(business_a, language="de").json()["detail"]
    assert tokens_of(business_a, owner_of(business_a).pk) == []
    # Another address is not locked.
    assert obtain(business_a, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_a_token_read_afresh_is_read_and_marked_used_in_one_statement(business_a):
    """A business last served minutes ago: its token is no longer remembered and its last use is stale. One
    round trip reads the token and records the use; the next requests of the minute need none."""
    key = key_of(business_a)
    owner = owner_of(business_a)
    assert api_get(business_a, key).status_code == 200
    later = timeutils.shift(tokens_of(business_a, owner.pk)[0].last_used_at, minutes=5)
    token_memory.forget_all_here()  # what the minutes without a request to this business did
    with time_machine.travel(later, tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert api_get(business_a, key).status_code == 200
        token_statements = [q["sql"] for q in queries.captured_queries if '"accounts_apitoken"' in q["sql"]]
        assert len(token_statements) == 1 and _token_updates(queries) == 1
        assert tokens_of(business_a, owner.pk)[0].last_used_at == later
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                assert api_get(business_a, key).status_code == 200
        assert not [q for q in queries.captured_queries if '"accounts_apitoken"' in q["sql"]]


def test_each_business_reads_its_tokens_afresh_with_a_statement_of_its_own(business_a, business_b):
    """Prepared (termino/shared/db/prepared.py): tokens read afresh at two businesses taking turns are each
    found at their own business; from a business's third statement on it has one of its own, planned for
    any parameters and never replaced by a custom plan."""
    keys = [(business, key_of(business)) for business in (business_a, business_b)]
    for _ in range(3):
        for business, key in keys:
            token_memory.forget_all_here()
            assert api_get(business, key).status_code == 200
    assert api_get(business_a, keys[1][1]).status_code == 401
    assert prepared_statements("accounts_apitoken") == {
        "shared": (4, 0),  # each business's first two reads
        business_a.schema: (2, 0),
        business_b.schema: (1, 0),
    }


@pytest.mark.clock
def test_a_refused_token_is_not_marked_used(business_a):
    """Expired (whether remembered or read afresh), or its person deactivated behind the signals' back: the
    request is refused, and the token's last use stays what it was."""
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    assert api_get(business_a, key).status_code == 200
    (token,) = tokens_of(business_a, member.pk)
    for remembered in (True, False):
        if not remembered:
            token_memory.forget_all_here()
        with time_machine.travel(timeutils.shift(token.expires_at, seconds=1), tick=False):
            assert api_get(business_a, key).status_code == 401
        assert tokens_of(business_a, member.pk)[0].last_used_at == token.last_used_at
    # A remembered row sees a change without a signal only once it is read again (token_memory).
    with schema_context(business_a.schema):
        User.objects.filter(pk=member.pk).update(is_active=False)
    token_memory.forget_all_here()
    with time_machine.travel(timeutils.shift(token.last_used_at, minutes=5), tick=False):
        assert api_get(business_a, key).status_code == 401
    assert tokens_of(business_a, member.pk)[0].last_used_at == token.last_used_at
