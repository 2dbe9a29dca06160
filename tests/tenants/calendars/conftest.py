import pytest

from .radicale_server import RadicaleServer


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    """One Radicale for the session; each test makes calendars of its own names."""
    with RadicaleServer(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture(autouse=True)
def _private_hosts_allowed(settings):
    # Radicale listens on loopback, which production refuses (CALDAV_ALLOW_PRIVATE_HOSTS).
    settings.CALDAV_ALLOW_PRIVATE_HOSTS = True
    settings.CALDAV_MIN_PULL_SECONDS = 0
