"""EmbeddedRedis against real redis-server processes in temp dirs."""

from pathlib import Path

import pytest
import redis

from termino.devserver.errors import ServiceError
from termino.devserver.redis import EmbeddedRedis

from .conftest import dead_pid, gone


def client(server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=5)


def test_starts_answers_and_persists_across_restarts(tmp_path: Path, port: int, servers: list):
    server = EmbeddedRedis(tmp_path / "redis", port)
    servers.append(server)
    server.start()
    assert server.started_by_us
    assert server.url == f"redis://127.0.0.1:{port}/0"
    client(server).set("greeting", "hallo")
    pid = server.running_pid()
    server.stop()  # SIGTERM saves dump.rdb
    assert gone(pid)
    assert (tmp_path / "redis" / "dump.rdb").exists()

    again = EmbeddedRedis(tmp_path / "redis", port)
    servers.append(again)
    with again:
        assert client(again).get("greeting") == b"hallo"
    assert not again.is_running()


def test_without_persist_nothing_is_kept(tmp_path: Path, port: int, servers: list):
    server = EmbeddedRedis(tmp_path / "redis", port, persist=False)
    servers.append(server)
    with server:
        client(server).set("greeting", "hallo")
    with server:
        assert client(server).get("greeting") is None


def test_port_taken_by_another_process(tmp_path: Path, occupied_port: int):
    server = EmbeddedRedis(tmp_path / "redis", occupied_port)
    with pytest.raises(ServiceError) as error:
        server.start()
    message = str(error.value)
    assert f"port {occupied_port} is taken by another process" in message
    assert "TERMINO_REDIS_PORT" in message and "REDIS_URL" in message
    assert not server.started_by_us


def test_stale_pid_file_is_removed(tmp_path: Path, port: int, servers: list, capsys):
    server = EmbeddedRedis(tmp_path / "redis", port)
    servers.append(server)
    server.pid_file.parent.mkdir(parents=True)
    server.pid_file.write_text(f"{dead_pid()}\n")

    server.start()

    assert server.started_by_us
    assert client(server).ping()
    err = capsys.readouterr().err
    assert "removing stale pid file left by a crashed run" in err
    assert str(server.pid_file) in err


def test_reuses_running_server_without_owning_it(tmp_path: Path, port: int, servers: list):
    owner = EmbeddedRedis(tmp_path / "redis", port)
    servers.append(owner)
    owner.start()

    guest = EmbeddedRedis(tmp_path / "redis", port)
    guest.start()
    assert not guest.started_by_us
    guest.stop()  # must leave the owner's server alone
    assert client(owner).ping()

    with pytest.raises(ServiceError, match=f"already running on port {port}"):
        EmbeddedRedis(tmp_path / "redis", port + 1).start()

    owner.stop()
    assert not owner.is_running()
