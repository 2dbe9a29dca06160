"""The shipped nginx configuration in front of gunicorn with the shipped gunicorn configuration, for real.

deploy/nginx/ is rendered for the test (the test's base domain, free ports, a self-signed certificate,
paths in a temporary directory; nothing else changes), checked with `nginx -t` and run as the current
user; gunicorn serves the app against the test database and Redis. Requests go over TLS with SNI, from
127.0.0.2, so the address nginx sees (the client's) differs from the one gunicorn sees (nginx's).
"""

import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from termino.devserver.ports import find_free_port
from termino.devserver.tools import tool
from termino.platform.tenancy.models import Domain

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
CLIENT_IP = "127.0.0.2"  # loopback, but neither nginx's address towards gunicorn nor a private network
UNKNOWN_HOST = f"nobody-here.{settings.BASE_DOMAIN}"
CUSTOM_DOMAIN = "buchen.alpha-nginx.example"
PRODUCTION_DOMAIN = "termino.example"  # the placeholder in the shipped files


@dataclass
class Stack:
    http_port: int
    https_port: int
    gunicorn_port: int
    tmp: Path
    ca_file: Path
    access_log: Path
    gunicorn_log: Path
    metrics_dir: Path
    stale_metrics_file: Path
    processes: list = field(default_factory=list)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


class _TLSConnection(http.client.HTTPSConnection):
    """Connects to 127.0.0.1 from CLIENT_IP but names `host` in SNI and in the Host header: names under
    *.localhost need no resolver this way, and the certificate is verified for the name asked for."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, (CLIENT_IP, 0))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PlainConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, (CLIENT_IP, 0))


def request(stack: Stack, host: str, path: str, *, tls=True, method="GET", headers=None, body=None) -> Answer:
    if tls:
        context = ssl.create_default_context(cafile=str(stack.ca_file))
        conn = _TLSConnection(host, stack.https_port, context=context, timeout=20)
    else:
        conn = _PlainConnection(host, stack.http_port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def direct(stack: Stack, host: str, path: str) -> Answer:
    """Straight to gunicorn, past nginx, from loopback (as a probe or an in-cluster scraper would)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.gunicorn_port, timeout=20)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        conn.close()


# --- Setting the stack up ------------------------------------------------------------------------------


def _self_signed_certificate(directory: Path, names: list[str]) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail(
            "The nginx test needs the `openssl` command for a test certificate (apt-get install openssl)."
        )
    cert, key = directory / "cert.pem", directory / "key.pem"
    san = ",".join(f"DNS:{name}" for name in names)
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={names[0]}"),
            *("-addext", f"subjectAltName={san}"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _replace(text: str, old: str, new: str, *, where: str) -> str:
    assert old in text, f"{where} no longer contains {old!r}: update the rendering in this test"
    return text.replace(old, new)


def _render_nginx(stack: Stack, cert: Path, key: Path, acme_root: Path, static_root: Path) -> Path:
    """deploy/nginx with what the README tells an operator to replace, and the optional static snippet on."""
    conf_dir = stack.tmp / "conf"
    shutil.copytree(NGINX_DIR, conf_dir)
    main = conf_dir / "termino.conf"
    text = main.read_text()
    for old, new in [
        (f"*.{PRODUCTION_DOMAIN}", f"*.{settings.BASE_DOMAIN}"),
        (f" {PRODUCTION_DOMAIN} ", f" {settings.BASE_DOMAIN} "),
        ("/etc/ssl/termino/fullchain.pem", str(cert)),
        ("/etc/ssl/termino/privkey.pem", str(key)),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{stack.gunicorn_port};"),
        ("root /var/www/acme;", f"root {acme_root};"),
        ("# include snippets/termino-static.conf;", "include snippets/termino-static.conf;"),
        ("/var/log/nginx/termino.access.log", str(stack.access_log)),
    ]:
        text = _replace(text, old, new, where="termino.conf")
    text, n_http = re.subn(r"listen (\[::\]:)?80\b", lambda m: f"listen {m[1] or ''}{stack.http_port}", text)
    text, n_tls = re.subn(r"listen (\[::\]:)?443\b", lambda m: f"listen {m[1] or ''}{stack.https_port}", text)
    assert n_http == 2 and n_tls == 4, "termino.conf listens elsewhere than on 80 and 443 (IPv4 and IPv6)"
    main.write_text(text)

    proxy = conf_dir / "snippets" / "termino-proxy.conf"
    proxy.write_text(
        _replace(proxy.read_text(), "/var/log/nginx/termino.access.log", str(stack.access_log), where="proxy")
    )
    static = conf_dir / "snippets" / "termino-static.conf"
    static.write_text(_replace(static.read_text(), "/app/static/", f"{static_root}/", where="static snippet"))

    # What nginx.conf of a distribution provides around an included site; temp paths writable by us.
    temp = stack.tmp / "temp"
    wrapper = conf_dir / "nginx.conf"
    # Started by root, nginx's workers would switch to `nobody`, who cannot read the test's directory.
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.geteuid() == 0 else ""
    wrapper.write_text(
        user + "worker_processes 1;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  types { text/html html; text/css css; application/javascript js; text/plain txt; }\n"
        "  default_type application/octet-stream;\n"
        + "".join(f"  {kind}_temp_path {temp / kind};\n" for kind in ("client_body", "proxy", "fastcgi"))
        + "".join(f"  {kind}_temp_path {temp / kind};\n" for kind in ("uwsgi", "scgi"))
        + "  include termino.conf;\n"
        "}\n"
    )
    return wrapper


def _nginx_command(stack: Stack, wrapper: Path, *extra: str) -> list[str]:
    path, _env = tool("nginx")
    directives = f"pid {stack.tmp / 'nginx.pid'}; error_log stderr;"
    if not extra:
        directives = "daemon off; " + directives
    return [path, "-p", str(stack.tmp), "-c", str(wrapper), "-g", directives, *extra]


def _database_url() -> str:
    cfg = connection.settings_dict
    return f"postgresql://{cfg['USER']}:{cfg['PASSWORD'] or ''}@{cfg['HOST']}:{cfg['PORT']}/{cfg['NAME']}"


def _gunicorn_env(stack: Stack, static_root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"METRICS_TOKEN", "SITE_PORT", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="termino.settings",
        DATABASE_URL=_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        BASE_DOMAIN=settings.BASE_DOMAIN,
        PORT=str(stack.gunicorn_port),
        WEB_CONCURRENCY="2",
        DEBUG="1",
        LOG_FORMAT="json",
        # One proxy in front; the app redirects plain HTTP, so a 200 through nginx means it saw https.
        NUM_PROXIES="1",
        SECURE_SSL_REDIRECT="1",
        STATIC_ROOT=str(static_root),
        PROMETHEUS_MULTIPROC_DIR=str(stack.metrics_dir),
        # The access log goes to a Redis list other tests of the session read.
        ACCESS_LOG_ENABLED="0",
    )
    return env


def _wait_for(check, what: str, processes: list, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while waiting for {what}")
        with suppress(OSError, http.client.HTTPException):
            if check():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    metrics_dir = tmp / "prometheus"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_999999.db"
    stale.write_bytes(b"left over by a previous master")
    stack = Stack(
        http_port=find_free_port(),
        https_port=find_free_port(),
        gunicorn_port=find_free_port(),
        tmp=tmp,
        ca_file=tmp / "cert.pem",
        access_log=tmp / "access.log",
        gunicorn_log=tmp / "gunicorn.log",
        metrics_dir=metrics_dir,
        stale_metrics_file=stale,
    )
    a_host = pytest.termino_businesses[0].host
    cert, key = _self_signed_certificate(tmp, [settings.BASE_DOMAIN, a_host, UNKNOWN_HOST, CUSTOM_DOMAIN])
    acme_root = tmp / "acme"
    (acme_root / ".well-known" / "acme-challenge").mkdir(parents=True)
    (acme_root / ".well-known" / "acme-challenge" / "token-123").write_text("token-123.thumbprint")
    static_root = tmp / "static"
    (static_root / "app").mkdir(parents=True)
    (static_root / "app" / "site.css").write_text("body { color: black; }\n")
    (static_root / "app" / "site.0123456789ab.css").write_text("body { color: black; }\n")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / "temp" / kind).mkdir(parents=True)
    wrapper = _render_nginx(stack, cert, key, acme_root, static_root)
    _path, nginx_env = tool("nginx")

    check = subprocess.run(
        _nginx_command(stack, wrapper, "-t"), env=nginx_env, capture_output=True, text=True
    )
    assert check.returncode == 0, f"nginx -t rejects the shipped configuration:\n{check.stderr}"

    with stack.gunicorn_log.open("wb") as log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "termino.wsgi"],
            cwd=ROOT,
            env=_gunicorn_env(stack, static_root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.processes.append(("gunicorn", gunicorn))
    nginx = subprocess.Popen(_nginx_command(stack, wrapper), env=nginx_env, start_new_session=True)
    stack.processes.append(("nginx", nginx))
    try:
        try:
            _wait_for(
                lambda: direct(stack, "localhost", "/healthz").status == 200, "gunicorn", stack.processes
            )
            _wait_for(
                lambda: request(stack, settings.BASE_DOMAIN, "/healthz").status == 200,
                "nginx",
                stack.processes,
            )
        except RuntimeError as error:
            output = stack.gunicorn_log.read_text()[-4000:]
            raise RuntimeError(f"{error}\n--- gunicorn's output ---\n{output}") from error
        yield stack
    finally:
        for _name, process in reversed(stack.processes):
            _stop(process)


# --- What nginx and gunicorn do together --------------------------------------------------------------


def test_platform_host_answers_the_signup_page(stack):
    answer = request(stack, settings.BASE_DOMAIN, "/signup/")
    assert answer.status == 200, answer.body[:500]
    assert 'name="slug"' in answer.body or "signup" in answer.body.lower()


def test_business_subdomain_reaches_its_login_page(stack, business_a):
    answer = request(stack, business_a.host, "/login/")
    # SECURE_SSL_REDIRECT is on: a 200 (not a redirect to https) means the app saw X-Forwarded-Proto https.
    assert answer.status == 200, answer.body[:500]
    assert business_a.tenant.name in unescape(answer.body)
    assert direct(stack, business_a.host, "/login/").status == 301  # the same request without the proxy


def test_unknown_subdomain_gets_the_apps_404(stack):
    answer = request(stack, UNKNOWN_HOST, "/")
    assert answer.status == 404
    assert UNKNOWN_HOST in answer.body  # the app's page naming the host it was asked for, not nginx's
    assert answer.headers["X-Request-ID"]


def test_custom_domain_reaches_its_business_through_the_default_server(stack, business_a, committed_db):
    domain = Domain.objects.create(domain=CUSTOM_DOMAIN, tenant=business_a.tenant, is_primary=False)
    try:
        answer = request(stack, CUSTOM_DOMAIN, "/login/")
        assert answer.status == 200, answer.body[:500]
        assert business_a.tenant.name in unescape(answer.body)
    finally:
        domain.delete()  # its signal forgets the cached route


def test_plain_http_redirects_to_https_except_acme_challenges(stack, business_a):
    answer = request(stack, business_a.host, "/login/?next=/calendar/", tls=False)
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{business_a.host}/login/?next=/calendar/"
    challenge = request(stack, business_a.host, "/.well-known/acme-challenge/token-123", tls=False)
    assert (challenge.status, challenge.body) == (200, "token-123.thumbprint")


def test_request_id_passes_through_or_is_made_by_nginx(stack):
    offered = f"client-{secrets.token_hex(8)}"
    answer = request(stack, settings.BASE_DOMAIN, "/signup/", headers={"X-Request-ID": offered})
    assert answer.headers["X-Request-ID"] == offered

    for offered in (None, "not a sane id; <script>"):
        answer = request(
            stack, settings.BASE_DOMAIN, "/signup/", headers={"X-Request-ID": offered} if offered else {}
        )
        made = answer.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made), made
        # nginx's $request_id (it is in nginx's log line), kept by the app rather than replaced by its own.
        assert _logged(stack, made)


def _logged(stack: Stack, request_id: str) -> bool:
    """Whether nginx logged a line with this request id (written just after the response went out)."""
    deadline = time.monotonic() + 5
    while True:
        ids = {line.split()[-1] for line in stack.access_log.read_text().splitlines() if line.strip()}
        if request_id in ids or time.monotonic() > deadline:
            return request_id in ids
        time.sleep(0.05)


def test_access_log_has_no_addresses_or_paths(stack):
    offered = f"privacy-{secrets.token_hex(8)}"
    request(
        stack, settings.BASE_DOMAIN, "/signup/?email=someone@example.com", headers={"X-Request-ID": offered}
    )
    assert _logged(stack, offered)
    log = stack.access_log.read_text()
    assert CLIENT_IP not in log and "127.0.0.1" not in log
    assert "/signup/" not in log and "someone" not in log


def test_app_sees_the_client_address_not_the_proxys(stack, business_a, committed_db):
    """A failed login is audited with the client's IP: nginx appended it to X-Forwarded-For (whatever the
    client wrote there itself stays to the left), and the app took it from there."""
    from axes.models import AccessAttempt

    from termino.tenants.accounts.models import LoginEvent

    form = request(stack, business_a.host, "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)[1]
    csrf_cookie = re.search(r"csrftoken=([^;]+)", form.headers["Set-Cookie"])[1]
    probe = f"nginx-probe-{secrets.token_hex(4)}@example.invalid"
    origin = f"https://{business_a.host}"
    answer = request(
        stack,
        business_a.host,
        "/login/",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Origin": origin,  # checked against https://<host>: the app must know the request was https
            "X-Forwarded-For": "203.0.113.66",  # forged by the client
        },
        body=f"csrfmiddlewaretoken={token}&username={probe}&password=wrong-password-123",
    )
    try:
        assert answer.status == 200, answer.body[:500]  # the form again, with the error
        with tenant_context(business_a.tenant):
            addresses = list(LoginEvent.objects.filter(username=probe).values_list("ip_address", flat=True))
        assert addresses == [CLIENT_IP]
    finally:
        with tenant_context(business_a.tenant):
            LoginEvent.objects.filter(username=probe).delete()
        AccessAttempt.objects.filter(username__endswith=f":{probe}").delete()


def test_metrics_are_refused_from_outside_by_nginx(stack):
    answer = request(stack, settings.BASE_DOMAIN, "/metrics")
    assert answer.status == 403
    assert "<center>nginx</center>" in answer.body  # nginx's page: the request never reached the app
    assert "X-Request-ID" not in answer.headers


def test_healthz_answers_through_nginx(stack):
    answer = request(stack, settings.BASE_DOMAIN, "/healthz")
    assert (answer.status, answer.body) == (200, "ok\n")


def test_static_files_from_disk_with_the_optional_snippet(stack):
    hashed = request(stack, settings.BASE_DOMAIN, "/static/app/site.0123456789ab.css")
    assert hashed.status == 200 and "color" in hashed.body
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = request(stack, settings.BASE_DOMAIN, "/static/app/site.css")
    assert plain.status == 200 and plain.headers["Cache-Control"] == "public, max-age=60"


def test_request_bodies_over_3_mb_are_refused(stack, business_a):
    answer = request(
        stack,
        business_a.host,
        "/login/",
        method="POST",
        headers={"Content-Type": "application/octet-stream"},
        body=b"x" * (3 * 1024 * 1024 + 1),
    )
    assert answer.status == 413
    assert "<center>nginx</center>" in answer.body  # refused before gunicorn read a byte


def test_responses_are_compressed(stack):
    answer = request(stack, settings.BASE_DOMAIN, "/signup/", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert answer.headers["Content-Encoding"] == "gzip"


# --- gunicorn's own behaviour under deploy/gunicorn.conf.py -------------------------------------------


def test_every_gunicorn_worker_warms_up_before_serving(stack):
    # post_worker_init (termino/shared/warmup.py): views imported, templates compiled, objects frozen.
    deadline = time.monotonic() + 60
    while True:
        ready = [
            json.loads(line)
            for line in stack.gunicorn_log.read_text().splitlines()
            if '"Worker ready: ' in line or '"Worker warm-up failed' in line
        ]
        if len(ready) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(ready) == 2, ready  # WEB_CONCURRENCY
    for entry in ready:
        assert entry["level"] == "INFO", entry
        compiled, frozen = map(int, re.findall(r"(\d+) (?:templates|objects)", entry["message"]))
        assert compiled > 100 and frozen > 50_000, entry
    assert request(stack, settings.BASE_DOMAIN, "/signup/").status == 200


def test_gunicorn_logs_json_and_starts_metrics_afresh(stack):
    lines = [line for line in stack.gunicorn_log.read_text().splitlines() if line.strip()]
    own = [json.loads(line) for line in lines if '"gunicorn.error"' in line]
    messages = [entry["message"] for entry in own]
    assert any(message.startswith("Starting gunicorn") for message in messages), lines[:10]
    assert sum(message.startswith("Booting worker") for message in messages) == 2  # WEB_CONCURRENCY
    assert {"time", "level", "logger"} <= set(own[0])
    assert not stack.stale_metrics_file.exists()  # emptied by on_starting

    request(stack, settings.BASE_DOMAIN, "/signup/")
    scrape = direct(stack, "localhost", "/metrics")
    assert scrape.status == 200
    assert "termino_http_requests_total{" in scrape.body
    assert list(stack.metrics_dir.glob("*.db"))  # samples written by the workers, merged at scrape time
