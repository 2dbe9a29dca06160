import pytest

from termino.platform.accesslog import buffer, pseudonym


@pytest.fixture(autouse=True)
def _fresh_buffer():
    """Redis is flushed between tests (tests/conftest.py); the process-wide state is reset here."""
    buffer.breaker.reset()
    pseudonym.forget_cached_secret()
    yield
    buffer.breaker.reset()
    pseudonym.forget_cached_secret()


def buffered() -> list[bytes]:
    client = buffer.client()
    return client.lrange(buffer.BUFFER_KEY, 0, -1)
