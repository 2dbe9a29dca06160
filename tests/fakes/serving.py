"""Local HTTP servers for tests, served from a daemon thread and stopped at once.

`serve_forever` looks for a shutdown request once per poll interval, 0.5 s by default: every `shutdown()`
waited for it, half a second in the teardown of each test with a fake Stripe, a webhook receiver or a live
site. Polled every 20 ms, the stop is immediate.
"""

import threading
from socketserver import BaseServer

POLL_SECONDS = 0.02


def serve_in_thread(server: BaseServer, name: str | None = None) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: BaseServer) -> None:
    server.shutdown()
    server.server_close()
