"""A request that fails because PostgreSQL or Redis is away is a 503 with Retry-After, not a 500.

Unit level, with Django's own exception handling around the failing layer: a view's exception reaches
`process_exception`, one raised in another middleware is turned into a 500 by Django first (and announced
with `got_request_exception`). The real outages are in tests/faults/.
"""

import json

import pytest
import redis
from django.core.handlers.exception import convert_exception_to_response
from django.db import IntegrityError, OperationalError
from django.test import RequestFactory

from termino.shared.outage import OutageMiddleware


def _failing(exc):
    def view(request):
        raise exc

    return view


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("the database system is shutting down"),
        redis.exceptions.ConnectionError("Connection refused"),
    ],
    ids=["database", "redis"],
)
@pytest.mark.parametrize("path", ["/api/public/v1/bookings/", "/calendar/"])
def test_an_outage_anywhere_below_is_a_503_with_retry_after(exc, path, settings):
    settings.DEBUG = False
    request = RequestFactory().get(path, HTTP_ACCEPT_LANGUAGE="de")
    # Raised in an inner middleware: Django's handler makes it a 500 before we see it.
    response = OutageMiddleware(convert_exception_to_response(_failing(exc)))(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    if path.startswith("/api/"):
        assert "Server startet neu" in json.loads(response.content)["detail"]
    else:
        assert "text/html" in response["Content-Type"] and "Server startet neu" in response.content.decode()
    # Raised by a view: process_exception answers.
    direct = OutageMiddleware(lambda r: None).process_exception(request, exc)
    assert direct.status_code == 503 and direct["Retry-After"] == "5"


def test_other_errors_stay_500s(settings):
    settings.DEBUG = False
    request = RequestFactory().get("/api/public/v1/bookings/")
    response = OutageMiddleware(convert_exception_to_response(_failing(IntegrityError("duplicate key"))))(
        request
    )
    assert response.status_code == 500 and not response.has_header("Retry-After")
    assert OutageMiddleware(lambda r: None).process_exception(request, ValueError("bug")) is None
