"""/healthz and /readyz answer on every host, over plain HTTP, before tenant routing."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from termino.devserver.ports import find_free_port
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "host", ["10.1.2.3:8000", "localhost", "nobody-here.localhost", "alpha-salon.localhost"]
)
def test_healthz_answers_any_host_without_the_database(host, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client_for(host).get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_readyz_checks_database_and_redis(business_a):
    response = client_for("10.1.2.3:8000").get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "problems": {}}


def test_probes_are_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client_for("10.1.2.3").get("/healthz").status_code == 200
    assert client_for("10.1.2.3").get("/readyz").status_code == 200
    # Everything else still is.
    assert client_for("localhost").get("/signup/").status_code == 301


def test_readyz_names_what_is_down():
    """A process whose database and Redis do not answer: /readyz is 503 naming both, /healthz stays 200."""
    closed = find_free_port()
    script = (
        "import django, json; django.setup();"
        "from django.test import Client; c = Client(HTTP_HOST='10.0.0.1');"
        "r = c.get('/readyz'); h = c.get('/healthz');"
        "print(json.dumps({'ready': r.status_code, 'body': r.json(), 'health': h.status_code}))"
    )
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed}/nothing",
        REDIS_URL=f"redis://127.0.0.1:{closed}/0",
        DJANGO_SETTINGS_MODULE="termino.settings",
        LOG_LEVEL="ERROR",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["ready"] == 503
    assert answer["health"] == 200
    assert set(answer["body"]["problems"]) == {"database", "redis"}
    assert answer["body"]["ready"] is False
