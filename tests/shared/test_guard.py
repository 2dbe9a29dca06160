"""The request guard (termino/shared/guard): what each kind of garbage gets, and in which form.

tests/fuzz/test_garbage.py sends the same garbage to every route and asserts only "no 5xx"; here are the
exact answers: the status, JSON under /api/ and a page elsewhere, in the request's language, before the
tenant routing has looked at the host.
"""

import io
import json
from io import BytesIO

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ParseError

from termino.shared.guard import safejson
from termino.shared.guard.parsers import JSONParser
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NUL_EN = "The request contains a null character"
NUL_DE = "Die Anfrage enthält ein Nullzeichen"
FORM = "application/x-www-form-urlencoded"
MB = 1024 * 1024


def detail(response) -> str:
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    return response.json()["detail"]


def page(response) -> str:
    assert response["Content-Type"] == "text/html; charset=utf-8", response["Content-Type"]
    return response.content.decode()


class Unreadable(io.RawIOBase):
    """A request body that fails the test when anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


@pytest.mark.parametrize(
    ("what", "request_kwargs"),
    [
        ("a manage token", {"path": "/api/public/v1/bookings/a%00b/"}),
        ("the query string", {"path": "/api/public/v1/services/?q=a%00b"}),
        ("a query parameter's name", {"path": "/api/public/v1/services/?a%00=1"}),
        ("Idempotency-Key", {"path": "/api/public/v1/bookings/", "HTTP_IDEMPOTENCY_KEY": "a\x00b"}),
        ("Authorization", {"path": "/api/v1/services/", "HTTP_AUTHORIZATION": "Token a\x00b"}),
        ("the session cookie", {"path": "/api/v1/services/", "HTTP_COOKIE": "sessionid=abcdefghij\x00k"}),
        ("a quoted cookie", {"path": "/api/v1/services/", "HTTP_COOKIE": 'sessionid="abcdefghij\\000k"'}),
    ],
)
def test_a_nul_anywhere_is_a_400_in_json_under_api(business_a, what, request_kwargs):
    path = request_kwargs.pop("path")
    response = client_for(business_a.host, "en").get(path, **request_kwargs)
    assert response.status_code == 400, what
    assert detail(response).startswith(NUL_EN)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"username": "a\x00b", "password": "x"}), "application/json"),
        ('{"username": "\\\\\\u0000"}', "application/json"),  # an escaped backslash, then the escape
        ("username=a%00b&password=x", FORM),
        ("username=a\x00b", FORM),
        (encode_multipart(BOUNDARY, {"username": "a\x00b", "password": "x"}), MULTIPART_CONTENT),
    ],
    ids=["json", "json-after-backslash", "form", "form-raw", "multipart"],
)
def test_a_nul_in_a_field_is_a_400(business_a, body, content_type):
    for path in ("/api/v1/auth/token/", "/login/"):
        response = client_for(business_a.host, "en").generic("POST", path, body, content_type)
        if path == "/login/" or content_type != MULTIPART_CONTENT:
            assert response.status_code == 400, (path, response.content[:300])
            assert NUL_EN in (detail(response) if path.startswith("/api/") else page(response))
        else:
            # DRF parses the API's multipart itself (the guard leaves CSRF-exempt views their raw body);
            # its fields refuse NUL on their own.
            assert response.status_code == 400 and "Null characters" in response.content.decode()


def test_a_json_string_that_merely_spells_backslash_u0000_is_accepted(business_a):
    body = json.dumps({"username": "C:\\u0000", "password": "x"})  # the text \u0000, no escape
    response = client_for(business_a.host, "en").generic(
        "POST", "/api/v1/auth/token/", body, "application/json"
    )
    assert response.status_code == 400 and "Unable to log in" in response.content.decode()


def test_the_page_speaks_the_requests_language(business_a):
    response = client_for(business_a.host, "de").get("/book/manage/a%00b/")
    assert response.status_code == 400
    body = page(response)
    assert '<html lang="de">' in body and NUL_DE in body and "Ungültige Anfrage" in body
    assert response["Content-Language"] == "de"
    english = client_for(business_a.host, "en").get("/book/manage/a%00b/")
    assert NUL_EN in page(english) and english["Content-Language"] == "en"
    cookie = Client(HTTP_HOST=business_a.host, HTTP_ACCEPT_LANGUAGE="en")
    cookie.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert NUL_DE in detail(cookie.get("/api/public/v1/bookings/a%00b/"))


def test_refusals_carry_the_security_headers(business_a):
    response = client_for(business_a.host, "en").get("/book/manage/a%00b/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_guard_answers_before_the_routing_reads_the_host():
    """No database query at all: an unknown host is not even looked up."""
    with CaptureQueriesContext(connection) as queries:
        response = client_for("nobody-here.localhost", "en").get("/a%00b/")
        nul_host = client_for("a\x00b.localhost", "en").get("/")
    assert response.status_code == 400 and NUL_EN in page(response)
    assert nul_host.status_code == 400 and NUL_EN in page(nul_host)
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_json_nested_100000_deep_is_a_400(business_a):
    """Was a 500 (RecursionError) on every JSON endpoint, the token endpoint included."""
    client = client_for(business_a.host, "en")
    for path in ("/api/v1/auth/token/", "/api/public/v1/bookings/", "/api/public/v1/holds/"):
        response = client.generic("POST", path, "[" * 100_000, "application/json")
        assert response.status_code == 400, path
        assert detail(response) == "The JSON is nested too deeply (at most 64 levels)."
    ok = client.generic("POST", "/api/v1/auth/token/", "[" * 64 + "]" * 64, "application/json")
    assert ok.status_code == 400 and "nested" not in ok.content.decode()  # DRF: not an object


def test_the_drf_parser_bounds_nesting_itself():
    """Whatever reaches the parser (a content type the guard does not read, a test's request) is checked."""
    parser = JSONParser()
    with pytest.raises(ParseError, match="nested too deeply"):
        parser.parse(BytesIO(b'{"a":' * 65 + b"1" + b"}" * 65))
    with pytest.raises(ParseError, match="null character"):
        parser.parse(BytesIO(b'{"a": "x\\u0000"}'))
    with pytest.raises(ParseError, match="JSON parse error"):
        parser.parse(BytesIO(b'{"a": NaN}'))  # DRF's strict mode stays
    with pytest.raises(ParseError, match="JSON parse error"):
        parser.parse(BytesIO(b'{"a": "\xff"}'))
    assert parser.parse(BytesIO(b'{"a": [1, {"b": "[[[[ \\" {{{{"}]}')) == {"a": [1, {"b": '[[[[ " {{{{'}]}


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * 64 + "]" * 64, False),
        ("[" * 65 + "]" * 65, True),
        ("[" * 100_000, True),
        ('["' + "[" * 100 + '"]', False),  # brackets inside a string are text
        ('["\\"' + "[" * 100 + '"]', False),  # an escaped quote does not end the string
        ('{"a": ' * 65 + "1" + "}" * 65, True),
        ("[]" * 100_000, False),
        ("[ü, " * 10 + "]" * 10, False),
    ],
)
def test_nesting_is_measured_outside_strings(text, deep):
    assert safejson.nested_deeper_than(text) is deep


def test_safejson_loads_refuses_what_json_loads_would_crash_on():
    with pytest.raises(ValueError, match="nested too deeply"):
        safejson.loads(b"[" * 100_000)
    with pytest.raises(ValueError, match="null character"):
        safejson.loads('{"a": "\\u0000"}')
    assert safejson.loads('{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # an escaped backslash, then text


def test_a_body_over_the_limit_is_a_413_before_it_is_read(business_a):
    client = client_for(business_a.host, "en")
    response = client.generic(
        "POST",
        "/api/v1/auth/token/",
        b"",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(10**12),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert detail(response) == "The request is too large: at most 2.5\xa0MB can be sent at once."
    upload = client.generic(
        "POST",
        "/customers/import/",
        b"",
        CONTENT_TYPE=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(4 * MB),
        **{"wsgi.input": Unreadable()},
    )
    assert upload.status_code == 413 and "at most 3.0\xa0MB" in page(upload)
    german = client_for(business_a.host, "de").generic("POST", "/login/", b"x" * (3 * MB), FORM)
    assert german.status_code == 413
    assert "Die Anfrage ist zu groß: Es können höchstens 2,5\xa0MB auf einmal gesendet werden." in page(
        german
    )


def test_a_multipart_form_under_the_upload_limit_with_too_much_text_is_a_413(business_a):
    """Within REQUEST_BODY_MAX_BYTES but over Django's limit for fields that are not files: Django raises
    RequestDataTooBig (its 400); the guard (form views) and handler400 (the API) answer 413."""
    body = encode_multipart(BOUNDARY, {"username": "x" * (int(2.6 * MB)), "password": "x"})
    assert len(body) < settings.REQUEST_BODY_MAX_BYTES
    client = client_for(business_a.host, "en")
    form = client.generic("POST", "/login/", body, MULTIPART_CONTENT)
    assert form.status_code == 413 and "at most 2.5\xa0MB" in page(form)
    api = client.generic("POST", "/api/v1/auth/token/", body, MULTIPART_CONTENT)
    assert api.status_code == 413 and "at most 2.5\xa0MB" in detail(api)


@pytest.mark.parametrize("length", ["abc", "-5", "+7", "1e3"])
def test_a_content_length_that_is_no_number_is_a_400(business_a, length):
    response = client_for(business_a.host, "en").generic(
        "POST", "/api/public/v1/holds/", b"{}", "application/json", CONTENT_LENGTH=length
    )
    assert response.status_code == 400
    assert detail(response) == "The Content-Length header is not a valid number."


def test_over_long_addresses_are_a_414(business_a):
    client = client_for(business_a.host, "en")
    response = client.get("/book/manage/" + "x" * 3000 + "/")
    assert response.status_code == 414 and "at most 2048 characters" in page(response)
    response = client.get("/api/public/v1/services/?q=" + "x" * 9000)
    assert response.status_code == 414 and "after the question mark" in detail(response)
    # Long, but within the limit: an ordinary 404.
    assert client.get("/book/manage/" + "x" * 300 + "/").status_code == 404


def test_broken_utf8(business_a):
    client = client_for(business_a.host, "en")
    response = client.get("/api/public/v1/services/?q=%FF%FE")
    assert response.status_code == 400 and detail(response) == "The address is not valid UTF-8 text."
    # In the path Django has already re-escaped such bytes (`%FF`): text that names nothing.
    assert client.get("/book/manage/%FF%FE/").status_code == 404
    for body, content_type in ((b'{"a": "\xff"}', "application/json"), (b"a=%FF&b=\xfe", FORM)):
        response = client.generic("POST", "/api/public/v1/holds/", body, content_type)
        assert response.status_code == 400
        assert detail(response) == "The request body is not valid UTF-8 text."


def test_a_300_character_file_name_under_media_is_a_404(business_a, settings, tmp_path):
    """Was a 500: the filesystem answered "File name too long" instead of "no such file"."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / business_a.schema / "branding").mkdir(parents=True)
    (tmp_path / business_a.schema / "branding" / "logo.png").write_bytes(b"png")
    client = client_for(business_a.host, "en")
    for name in ("x" * 300, "branding/" + "x" * 256, "branding/" + "ü" * 128):
        assert client.get(f"/media/{business_a.schema}/{name}").status_code == 404, name
    assert client.get(f"/media/{business_a.schema}/branding/" + "x" * 255).status_code == 404  # may exist
    served = client.get(f"/media/{business_a.schema}/branding/logo.png")
    assert served.status_code == 200 and b"".join(served.streaming_content) == b"png"


def test_the_probes_answer_before_the_guard_and_read_nothing(business_a):
    """/healthz, /readyz and /metrics are answered by the first middleware: they compare the path, never
    read the body or a header into anything, so garbage around them changes nothing."""
    client = Client(HTTP_HOST=business_a.host)
    garbage = {
        "HTTP_X_REQUEST_ID": "a\x00b",
        "HTTP_COOKIE": "sessionid=a\x00b",
        "HTTP_ACCEPT_LANGUAGE": "\x00",
    }
    assert client.get("/healthz?x=%00", **garbage).status_code == 200
    assert client.get("/readyz", **garbage).status_code == 200
    assert client.get("/metrics", **garbage).status_code == 200  # the test client calls from 127.0.0.1
    unread = client.generic(
        "POST", "/healthz", b"", CONTENT_LENGTH=str(10**12), **{"wsgi.input": Unreadable()}
    )
    assert unread.status_code == 200
    # A path that only resembles a probe goes on to the guard.
    assert client.get("/healthz%00").status_code == 400


def test_a_lox24_report_nested_too_deeply_is_a_400_whatever_its_content_type(settings):
    """The webhook parses its body itself, whatever the content type: through safejson."""
    settings.LOX24_WEBHOOK_SECRET = "guard-secret"
    client = client_for(settings.BASE_DOMAIN, "en")
    for content_type in ("text/plain", "application/octet-stream"):
        response = client.generic("POST", "/webhooks/lox24/guard-secret/", "[" * 100_000, content_type)
        assert response.status_code == 400, content_type
