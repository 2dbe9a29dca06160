"""A real worker logs JSON lines, and tasks carry the request id of the request that queued them."""

import json
import time

import pytest

from termino.shared.observability.context import request_id
from tests.tenants.notifications.worker_process import private_broker, stop


@pytest.mark.usefixtures("committed_db")
def test_tasks_queued_in_a_request_log_its_request_id(business_a, tmp_path):
    log_file = tmp_path / "worker.log"
    with private_broker(tmp_path / "redis") as broker, log_file.open("w") as output:
        worker = broker.worker(broker.env(LOG_FORMAT="json"), loglevel="INFO", output=output)
        try:
            token = request_id.set("req-0123456789abcdef")
            try:
                broker.tick()  # fan-out to every business: each child task is queued by the worker
            finally:
                request_id.reset(token)
            lines = wait_for_lines(log_file, lambda line: "notifications.send_due" in line.get("message", ""))
        finally:
            stop(worker)
    ours = [line for line in lines if line.get("request_id") == "req-0123456789abcdef"]
    messages = " ".join(line["message"] for line in ours)
    assert "tenancy.fan_out" in messages and "succeeded" in messages
    # The fan-out's children, queued inside the worker, carry the id along.
    assert "notifications.send_due" in messages
    assert all({"time", "level", "logger", "schema"} <= set(line) for line in lines)


def wait_for_lines(path, done, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = []
        for raw in path.read_text().splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue  # celery's banner and other non-log output
        if any(done(line) for line in lines):
            return lines
        time.sleep(0.2)
    raise AssertionError(f"no matching log line within {timeout} s:\n{path.read_text()[-3000:]}")
