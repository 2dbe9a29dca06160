"""Secrets at rest: encrypted with the first of CALENDAR_ENCRYPTION_KEYS, readable with any of them, moved to
a new key by re-encryption; a secret whose key is gone is a clear error state, not a crash."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django_tenants.utils import schema_context

from termino.tenants.calendars import crypto, selectors
from termino.tenants.calendars import services as calendars
from termino.tenants.calendars.models import CalDavConnection
from tests.conftest import client_for

from .helpers import team

pytestmark = pytest.mark.django_db


def test_rotation_keeps_feeds_and_passwords_readable(business_a, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CALENDAR_ENCRYPTION_KEYS = old
    _service, anna, _ben, (anna_user, _) = team(business_a)
    with schema_context(business_a.schema):
        token = calendars.feed_token_issue(resource=anna, user=anna_user)
        conn = calendars.caldav_connect(
            resource=anna, url="https://cal.example.com/a/", username="a", password="pw"
        )
        settings.CALENDAR_ENCRYPTION_KEYS = f"{new},{old}"
        assert calendars.secrets_reencrypt() == 2
        settings.CALENDAR_ENCRYPTION_KEYS = new  # the old key retired
        conn.refresh_from_db()
        assert crypto.decrypt(conn.password_encrypted) == "pw"
        assert selectors.feed_token_text(selectors.feed_token_live(resource=anna)) == token
    connection.set_schema_to_public()
    assert client_for(business_a.host).get(f"/calendar/{token}.ics").status_code == 200


def test_a_password_no_key_opens_is_an_error_state(business_a, settings):
    settings.CALENDAR_ENCRYPTION_KEYS = Fernet.generate_key().decode()
    _service, anna, _ben, _users = team(business_a)
    with schema_context(business_a.schema):
        conn = calendars.caldav_connect(
            resource=anna, url="https://cal.example.com/a/", username="a", password="pw"
        )
        settings.CALENDAR_ENCRYPTION_KEYS = Fernet.generate_key().decode()
        assert calendars.caldav_pull(connection_id=conn.pk, on_demand=True) == "error"
        assert CalDavConnection.objects.get(pk=conn.pk).state == "error"
