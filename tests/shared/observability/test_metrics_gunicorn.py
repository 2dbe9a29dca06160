"""Under gunicorn with several workers, every scrape sees the requests all workers answered."""

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from termino.devserver.ports import find_free_port, wait_for_port

ROUND = 12


def database_url() -> str:
    cfg = connection.settings_dict
    return f"postgresql://{cfg['USER']}:{cfg['PASSWORD'] or ''}@{cfg['HOST']}:{cfg['PORT']}/{cfg['NAME']}"


@pytest.fixture
def gunicorn(django_db_setup, tmp_path):
    port = find_free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "termino.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_port(port, timeout=60), "gunicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def signup_count(base: str) -> float:
    response = requests.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "termino_http_requests_total" and sample.labels.get("route") == "/signup/"
    )


def get_signup(base: str) -> str:
    response = requests.get(f"{base}/signup/", headers={"Host": "localhost"}, timeout=30)
    assert response.status_code == 200
    return response.headers["X-Request-ID"]


def test_scrapes_add_up_every_worker(gunicorn, tmp_path):
    # Rounds of concurrent requests on their own connections until both workers have answered some (on a
    # busy machine the second worker may boot a while after the first).
    sent, writers = 0, set()
    deadline = time.monotonic() + 60
    while len(writers) < 2 and time.monotonic() < deadline:
        with ThreadPoolExecutor(6) as pool:
            request_ids = set(pool.map(get_signup, [gunicorn] * ROUND))
        assert len(request_ids) == ROUND
        sent += ROUND
        writers = {path.name for path in (tmp_path / "prometheus").glob("counter_*.db")}
    assert len(writers) == 2, writers
    # Whichever worker answers a scrape, it reports the requests of both.
    assert [signup_count(gunicorn) for _ in range(6)] == [sent] * 6
