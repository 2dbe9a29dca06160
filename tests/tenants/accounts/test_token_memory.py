"""Each process remembers the API tokens it checked (accounts.token_memory): a request then reads no token
from the database, and still no revoked token, deactivated person or changed role gets through for longer
than the business's auth version takes to reach the process (API_TOKEN_LOCAL_SECONDS), or, for changes
that send no signal, than a remembered row lives (API_TOKEN_MEMORY_SECONDS)."""

import re
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.tenants.accounts import services, token_memory
from termino.tenants.accounts.models import ApiToken, Role, User
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user

from .test_api_tokens import api_get, key_of, owner_of

pytestmark = pytest.mark.django_db


def token_reads(queries) -> int:
    """Statements reading a token (its table named in the business's schema or found by the search_path)."""
    read = re.compile(r'FROM ("[^"]+"\.)?"?accounts_apitoken\b')
    return sum(1 for q in queries.captured_queries if read.search(q["sql"]))


def test_a_token_used_once_is_not_read_from_the_database_again(business_a):
    key = key_of(business_a)
    with CaptureQueriesContext(connection) as first:
        assert api_get(business_a, key).status_code == 200
    assert token_reads(first) == 1
    with CaptureQueriesContext(connection) as later:
        for _ in range(5):
            assert api_get(business_a, key).status_code == 200
    assert token_reads(later) == 0


def test_a_revoked_token_is_refused_at_once_by_the_process_that_revoked_it(business_a):
    key = key_of(business_a)
    assert api_get(business_a, key).status_code == 200
    owner = owner_of(business_a)
    with schema_context(business_a.schema):
        token = ApiToken.objects.get(token_hash=ApiToken.hash_key(key))
        assert services.api_token_revoke(user=owner, token_id=token.pk)
    assert api_get(business_a, key).status_code == 401


def test_a_deactivated_person_is_refused_at_once(business_a):
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    assert api_get(business_a, key).status_code == 200
    with schema_context(business_a.schema):
        services.user_deactivate(member=User.objects.get(pk=member.pk), acting_user=owner_of(business_a))
    assert api_get(business_a, key).status_code == 401


def test_a_new_role_counts_from_the_next_request(business_a):
    """The remembered row carries the role: a manager demoted to staff may no longer write."""
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    client = client_for(business_a.host, "en")
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    created = client.post("/api/v1/services/", {"name": "Probe", "duration_minutes": 30}, **headers)
    assert created.status_code == 201, created.content
    with schema_context(business_a.schema):
        demoted = User.objects.get(pk=member.pk)
        demoted.role = Role.STAFF
        demoted.save()
    refused = client.post("/api/v1/services/", {"name": "Probe 2", "duration_minutes": 30}, **headers)
    assert refused.status_code == 403


def test_a_change_made_by_another_process_reaches_this_one_within_the_interval(business_a, settings):
    settings.API_TOKEN_LOCAL_SECONDS = 0.2
    key = key_of(business_a)
    assert api_get(business_a, key).status_code == 200
    # Another process revokes the token: its row is gone and its signal moved the business's version in
    # Redis; this process's memory is not told directly.
    with schema_context(business_a.schema):
        ApiToken.objects.filter(token_hash=ApiToken.hash_key(key))._raw_delete(connection.alias)
        cache.incr(token_memory.KEY)
    assert api_get(business_a, key).status_code == 200  # within the interval: remembered
    time.sleep(0.25)
    assert api_get(business_a, key).status_code == 401


def test_a_change_that_sends_no_signal_is_seen_once_the_row_is_old(business_a, settings):
    settings.API_TOKEN_MEMORY_SECONDS = 0.2
    member = make_user(business_a, Role.MANAGER)
    key = key_of(business_a, member.username)
    assert api_get(business_a, key).status_code == 200
    with schema_context(business_a.schema):
        User.objects.filter(pk=member.pk).update(is_active=False)  # no save(), no signal
    time.sleep(0.25)
    assert api_get(business_a, key).status_code == 401


def test_a_remembered_token_opens_only_its_own_business(business_a, business_b):
    key = key_of(business_a)
    assert api_get(business_a, key).status_code == 200
    assert api_get(business_b, key).status_code == 401
    assert api_get(business_a, key).status_code == 200


def test_a_login_does_not_make_the_processes_forget(business_a):
    """Every login saves the person's last_login; that changes nothing a token relies on."""
    key = key_of(business_a)
    assert api_get(business_a, key).status_code == 200
    log_in_as(business_a)
    with CaptureQueriesContext(connection) as queries:
        assert api_get(business_a, key).status_code == 200
    assert token_reads(queries) == 0


def test_without_redis_every_request_reads_its_token(business_a, settings):
    key = key_of(business_a)
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},  # nobody there
    }
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert api_get(business_a, key).status_code == 200
    assert token_reads(queries) == 3
    owner = owner_of(business_a)
    with schema_context(business_a.schema):
        ApiToken.objects.filter(user=owner)._raw_delete(connection.alias)
    assert api_get(business_a, key).status_code == 401
