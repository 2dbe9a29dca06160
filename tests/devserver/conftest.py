"""Fixtures for the devserver tests: real servers in temp dirs on free ports. Nothing here needs Django."""

import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from termino.devserver.ports import find_free_port
from termino.devserver.postgres import EmbeddedPostgres
from termino.devserver.redis import EmbeddedRedis


@pytest.fixture
def port() -> int:
    return find_free_port()


@pytest.fixture
def servers() -> Iterator[list]:
    """Servers a test creates; whatever still runs from their data dirs is stopped afterwards."""
    created: list[EmbeddedPostgres | EmbeddedRedis] = []
    yield created
    for server in reversed(created):
        server.stop()
        server.stop_leftover()


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port held by a plain listening socket that is not ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = psutil.Popen(["true"])
    proc.wait()
    return proc.pid


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path
