"""Small TCP port helpers shared by the embedded services, the supervisor and the tests."""

import socket
import time

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on host:port (a test bind; the socket is closed right away)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as the servers use it, so TIME_WAIT leftovers of our own last run don't count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(host: str = HOST) -> int:
    """A port the kernel considers free right now (another process may still take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_answers(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float, host: str = HOST) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_answers(port, host):
            return True
        time.sleep(0.1)
    return False


def parse_port(value: str | None, default: int, env_var: str) -> int:
    """Port from an environment variable, with an error that names the variable."""
    from .errors import ServiceError

    if value is None or value.strip() == "":
        return default
    try:
        port = int(value)
    except ValueError:
        raise ServiceError(f"{env_var}={value!r} is not a port number; e.g. {env_var}={default}.") from None
    if not 0 < port < 65536:
        raise ServiceError(f"{env_var}={port} is out of range; use a port between 1024 and 65535.")
    return port
