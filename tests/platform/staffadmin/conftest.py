"""Platform staff (users of `public`), their TOTP devices, and clients signed in at /staff/."""

import itertools

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from termino.platform.tenancy import routing
from tests.conftest import PASSWORD, client_for, password_hash

_serial = itertools.count(1)
IMPERSONATION_MIDDLEWARE = "termino.platform.staffadmin.middleware.ImpersonationMiddleware"


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the project's default language is German."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _wired(settings):
    """What the lead wires outside this app: the tenant URL include and the middleware."""
    settings.ROOT_URLCONF = "tests.platform.staffadmin.tenant_urls"
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        IMPERSONATION_MIDDLEWARE,
    )
    settings.MIDDLEWARE = middleware


def make_staff(
    *, device: bool = True, superuser: bool = False, is_staff: bool = True, name: str = "Petra Platt"
):
    """A user of the public schema (the tests run there), with a confirmed TOTP device."""
    first, last = name.split(" ", 1)
    n = next(_serial)
    user = get_user_model().objects.create(
        username=f"ops{n}@termino.example",
        email=f"ops{n}@termino.example",
        first_name=first,
        last_name=last,
        is_staff=is_staff,
        is_superuser=superuser,
        password=password_hash(),
    )
    if device:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.filter(user=user).order_by("pk").first()


def code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    """The code an authenticator app would show now (or `step_offset` time steps later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def staff_client(language: str = "en"):
    return client_for(settings.BASE_DOMAIN, language)


def sign_in(user, client=None, *, step_offset: int = 0):
    """Through both steps of the real login; returns the signed-in client."""
    client = client or staff_client()
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/staff/login/code/", response.content[
        :500
    ]
    response = client.post("/staff/login/code/", {"code": code(device_of(user), step_offset=step_offset)})
    assert response.status_code == 302 and response["Location"] == "/staff/", response.content[:500]
    return client


@pytest.fixture
def staff():
    return make_staff()


@pytest.fixture
def staffed(staff):
    """A staff member signed in with password and TOTP: (user, client)."""
    return staff, sign_in(staff)


def forget_routing_cache() -> None:
    """Tests run in a transaction that never commits, so the on-commit cache invalidation never runs."""
    caches["platform"].clear()
    routing.forget_local_hosts()
