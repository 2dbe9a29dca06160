"""Users of each role in a business, logged in through the real login page."""

import secrets

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import Resource
from tests.conftest import PASSWORD, client_for, password_hash


def make_user(business, role: str, *, username: str | None = None, staff_name: str | None = None):
    """A user of `role`; with `staff_name` also the staff member (calendar column) they are."""
    username = username or f"{role}-{secrets.token_hex(3)}@{business.tenant.slug}.example"
    with schema_context(business.schema):
        user = get_user_model().objects.create(
            username=username, email=username, role=role, first_name=role.title(), password=password_hash()
        )
        if staff_name:
            Resource.objects.create(kind="staff", name=staff_name, user=user)
    return user


def log_in_as(business, role: str = "owner", *, user=None, language: str = "en"):
    """A test client logged in at the business's host as its owner or a new user of `role`."""
    client = client_for(business.host, language)
    if user is None and role == "owner":
        username = business.owner_username
    else:
        user = user or make_user(business, role)
        username = user.username
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
