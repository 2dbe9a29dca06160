"""Log lines are JSON with the request id and the business's schema; the id comes back in the answer."""

import io
import json
import logging
import uuid

import pytest

from termino.shared.observability.logs import ContextFilter, JsonFormatter
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Request log lines, formatted as in production (LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(schema)s")
    )
    logger = logging.getLogger("termino.requests")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_request_logs_one_json_line_with_schema_and_request_id(business_a, json_lines):
    response = client_for(business_a.host).get("/login/")
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = json_lines()
    assert line["request_id"] == request_id
    assert line["schema"] == business_a.schema
    assert line["level"] == "INFO"
    assert line["logger"] == "termino.requests"
    assert line["route"] == "/login/"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["time"]  # ISO 8601


def test_a_sane_request_id_from_the_proxy_is_kept(business_a, json_lines):
    offered = str(uuid.uuid4())
    response = client_for(business_a.host).get("/login/", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] == offered
    assert json_lines()[0]["request_id"] == offered


@pytest.mark.parametrize("offered", ["short", "x" * 200, "evil\nline", "<script>alert(1)</script>"])
def test_an_odd_request_id_is_replaced(business_a, offered):
    response = client_for(business_a.host).get("/login/", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


def test_paths_with_tokens_are_logged_as_their_route(business_a, json_lines):
    client_for(business_a.host).get("/book/manage/secret-token-123/")
    line = json_lines()[0]
    assert "secret-token-123" not in json.dumps(line)
    assert line["route"].startswith("/book/manage/<")


def test_platform_requests_log_the_public_schema(json_lines):
    client_for("localhost").get("/signup/")
    assert json_lines()[0]["schema"] == "public"
