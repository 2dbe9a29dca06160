"""pytest plugin (loaded with `-p termino.devserver.pytest_plugin`): start the test services first.

It must run before pytest-django imports the settings, which read DATABASE_URL and REDIS_URL. A hook
wrapper runs ahead of every plain implementation of `pytest_load_initial_conftests`, pytest-django's
included. With both URLs set, nothing is started and those servers are used.

Under pytest-xdist (`-n 2`) the controlling process only hands out tests; each worker starts its own
servers (a slot each, see testing.py), so workers never share a database or a Redis.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    distributing = bool(getattr(early_config.known_args_namespace, "numprocesses", None))
    if distributing and not os.environ.get("PYTEST_XDIST_WORKER"):
        return (yield)
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        from .testing import start_test_services

        database_url, redis_url = start_test_services(ROOT)
        os.environ.setdefault("DATABASE_URL", database_url)
        os.environ.setdefault("REDIS_URL", redis_url)
    return (yield)


def pytest_unconfigure(config):
    from . import testing

    stop = getattr(testing, "stop_test_services", None)
    if stop is not None:
        stop()
