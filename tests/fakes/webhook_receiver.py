"""A local webhook receiver for tests: a real HTTP server on 127.0.0.1 (free port) in a thread.

with Receiver() as receiver:
    receiver.url                 # http://127.0.0.1:<port>/hooks
    receiver.answer(500, 200)    # the next requests get these statuses, then 200 for every other one
    receiver.answer_ok()         # 200 from now on
    receiver.requests            # every request: headers, body bytes, the status it got
    receiver.wait_for(2)         # block until two requests have arrived (or fail after a timeout)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fakes.serving import serve_in_thread, stop_serving


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    def __init__(self, path: str = "/hooks"):
        self.path = path
        self.requests: list[Received] = []
        self._script: list[int] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    status = receiver._script.pop(0) if receiver._script else 200
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status))
                    receiver._lock.notify_all()
                reply = b"ok" if status < 300 else b"boom " * 300  # long enough to be truncated in the log
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def answer_ok(self) -> None:
        """Forget the statuses still scripted: 200 from now on."""
        with self._lock:
            self._script.clear()

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._lock.wait(left)
            return list(self.requests)

    def __enter__(self) -> Receiver:
        serve_in_thread(self.server, name="webhook-receiver")
        return self

    def __exit__(self, *exc) -> None:
        stop_serving(self.server)
