"""A local stand-in for Stripe's API: an HTTP server on 127.0.0.1 that speaks the endpoints Termino uses,
with Stripe's documented object shapes, plus helpers that play what happens on Stripe's side (a customer
pays, a renewal fails, a subscription is cancelled) and return the webhook events Stripe would send,
signed the way Stripe signs them.

Endpoints: POST /v1/customers, POST /v1/checkout/sessions, POST /v1/billing_portal/sessions,
GET /v1/subscriptions/{id}, DELETE /v1/subscriptions/{id}. Requests need `Authorization: Bearer <key>`;
bodies are form-encoded with Stripe's bracket notation (`line_items[0][price_data][currency]=eur`).
"""

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"
_serial = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}{next(_serial):04d}"


def decode_form(body: str) -> dict:
    """`a[b][0][c]=1` → {"a": {"b": [{"c": "1"}]}} (Stripe's form encoding of nested parameters)."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature`: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type_, **extra}}


class FakeStripe:
    def __init__(self, *, api_key: str, webhook_secret: str, webhook_url: str = ""):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        # Where the hosted pages deliver their events (browser tests); API-only tests deliver themselves.
        self.webhook_url = webhook_url
        self.customers: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.portal_sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.requests: list[dict] = []  # every request received: method, path, params, headers
        self.clock = int(time.time())
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- Server ----------------------------------------------------------------------------------

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                split = urlsplit(self.path)
                params = decode_form(body or split.query)
                hosted = fake.hosted_page(method, split.path)
                if hosted is not None:
                    status, location, html = hosted
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    data = html.encode()
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                status, payload = fake.handle(method, split.path, params, dict(self.headers))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", _id("req"))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "params": params, "headers": headers})
            try:
                self._authenticate(headers)
                return 200, self._route(method, path, params)
            except StripeError as exc:
                return exc.status, exc.body

    def _authenticate(self, headers: dict) -> None:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not auth.startswith("Bearer "):
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        key = auth.removeprefix("Bearer ")
        if not hmac.compare_digest(key, self.api_key):
            raise StripeError(
                401, f"Invalid API Key provided: {key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}"
            )

    def _route(self, method: str, path: str, params: dict) -> dict:
        if method == "POST" and path == "/v1/customers":
            return self._customer_create(params)
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._checkout_create(params)
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self._portal_create(params)
        match = re.fullmatch(r"/v1/subscriptions/([A-Za-z0-9_]+)", path)
        if match and method == "GET":
            return self._subscription(match.group(1))
        if match and method == "DELETE":
            return self._subscription_cancel(match.group(1))
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    # --- Endpoints -------------------------------------------------------------------------------

    def tick(self) -> int:
        """Stripe's clock, one second further for each event, so events have distinct `created`."""
        self.clock += 1
        return self.clock

    @staticmethod
    def _require(params: dict, *names: str) -> None:
        for name in names:
            if not params.get(name):
                raise StripeError(
                    400, f"Missing required param: {name}.", param=name, code="parameter_missing"
                )

    def _customer_create(self, params: dict) -> dict:
        customer = {
            "id": _id("cus"),
            "object": "customer",
            "address": params.get("address"),
            "balance": 0,
            "created": self.clock,
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "name": params.get("name"),
            "phone": params.get("phone"),
            "preferred_locales": params.get("preferred_locales") or [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def _checkout_create(self, params: dict) -> dict:
        self._require(params, "mode", "success_url", "line_items")
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise StripeError(
                400, f"No such customer: '{customer}'", param="customer", code="resource_missing"
            )
        line = params["line_items"][0]
        price_data = line.get("price_data") or {}
        amount = int(price_data["unit_amount"]) if price_data else None
        session = {
            "id": _id("cs_test"),
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": self.clock,
            "currency": price_data.get("currency", "eur"),
            "customer": customer,
            "customer_email": None,
            "expires_at": self.clock + 86400,
            "invoice": None,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": params.get("metadata") or {},
            "mode": params["mode"],
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": params["success_url"],
            "ui_mode": "hosted",
            "url": None,
        }
        session["url"] = f"{self.base_url}/c/pay/{session['id']}"
        # Kept aside (not part of the object): what Checkout would charge, for complete_checkout().
        self.sessions[session["id"]] = {"object": session, "params": params}
        return session

    def _portal_create(self, params: dict) -> dict:
        self._require(params, "customer")
        if params["customer"] not in self.customers:
            raise StripeError(
                400, f"No such customer: '{params['customer']}'", param="customer", code="resource_missing"
            )
        portal = {
            "id": _id("bps"),
            "object": "billing_portal.session",
            "configuration": "bpc_fake",
            "created": self.clock,
            "customer": params["customer"],
            "flow": None,
            "livemode": False,
            "locale": params.get("locale"),
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": None,
        }
        portal["url"] = f"{self.base_url}/p/session/{portal['id']}"
        self.portal_sessions[portal["id"]] = portal
        return portal

    def _subscription(self, sub_id: str) -> dict:
        if sub_id not in self.subscriptions:
            raise StripeError(404, f"No such subscription: '{sub_id}'", param="id", code="resource_missing")
        return self.subscriptions[sub_id]

    def _subscription_cancel(self, sub_id: str) -> dict:
        sub = self._subscription(sub_id)
        if sub["status"] == "canceled":
            raise StripeError(404, f"No such subscription: '{sub_id}'", param="id", code="resource_missing")
        sub.update(status="canceled", canceled_at=self.clock, ended_at=self.clock)
        return sub

    # --- What happens on Stripe's side, as events ---------------------------------------------------

    def event(
        self, type_: str, obj: dict, *, created: int | None = None, previous: dict | None = None
    ) -> dict:
        data = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.tick() if created is None else created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    def _price(self, params: dict) -> dict:
        line = params["line_items"][0]
        if line.get("price"):
            return {
                "id": line["price"],
                "object": "price",
                "active": True,
                "currency": "eur",
                "product": "prod_fake",
                "recurring": {
                    "interval": params.get("metadata", {}).get("interval", "month"),
                    "interval_count": 1,
                    "usage_type": "licensed",
                },
                "type": "recurring",
                "unit_amount": 1000,
                "unit_amount_decimal": "1000",
            }
        data = line["price_data"]
        recurring = data.get("recurring")
        return {
            "id": _id("price"),
            "object": "price",
            "active": False,
            "currency": data["currency"],
            "product": _id("prod"),
            "recurring": {"interval": recurring["interval"], "interval_count": 1, "usage_type": "licensed"}
            if recurring
            else None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": int(data["unit_amount"]),
            "unit_amount_decimal": str(data["unit_amount"]),
        }

    def _invoice(self, sub: dict, *, status: str, billing_reason: str) -> dict:
        amount = sub["items"]["data"][0]["price"]["unit_amount"]
        invoice = {
            "id": _id("in"),
            "object": "invoice",
            "amount_due": amount,
            "amount_paid": amount if status == "paid" else 0,
            "amount_remaining": 0 if status == "paid" else amount,
            "attempt_count": 1,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "created": self.clock,
            "currency": sub["currency"],
            "customer": sub["customer"],
            "hosted_invoice_url": f"{self.base_url}/i/{secrets.token_hex(6)}",
            "livemode": False,
            "number": f"FAKE-{next(_serial):04d}",
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"metadata": sub["metadata"], "subscription": sub["id"]},
            },
            "period_end": self.clock,
            "period_start": self.clock,
            "status": status,
            "total": amount,
        }
        self.invoices[invoice["id"]] = invoice
        sub["latest_invoice"] = invoice["id"]
        return invoice

    def complete_checkout(self, session_id: str) -> list[dict]:
        """The customer pays on the Checkout page. Returns the events in the order Stripe sends them."""
        with self._lock:
            stored = self.sessions[session_id]
            session, params = stored["object"], stored["params"]
            session.update(status="complete", payment_status="paid")
            if session["mode"] == "payment":
                session["payment_intent"] = _id("pi")
                return [self.event("checkout.session.completed", session)]
            now = self.tick()
            price = self._price(params)
            period = 365 * 86400 if price["recurring"]["interval"] == "year" else 30 * 86400
            sub_id = _id("sub")
            sub = {
                "id": sub_id,
                "object": "subscription",
                "application": None,
                "billing_cycle_anchor": now,
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "collection_method": "charge_automatically",
                "created": now,
                "currency": price["currency"],
                "customer": session["customer"],
                "default_payment_method": _id("pm"),
                "ended_at": None,
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": _id("si"),
                            "object": "subscription_item",
                            "created": now,
                            "current_period_end": now + period,
                            "current_period_start": now,
                            "metadata": {},
                            "price": price,
                            "quantity": 1,
                            "subscription": sub_id,
                        }
                    ],
                    "has_more": False,
                    "total_count": 1,
                    "url": f"/v1/subscription_items?subscription={sub_id}",
                },
                "latest_invoice": None,
                "livemode": False,
                "metadata": (params.get("subscription_data") or {}).get("metadata") or {},
                "start_date": now,
                "status": "active",
                "trial_end": None,
                "trial_start": None,
            }
            self.subscriptions[sub_id] = sub
            session["subscription"] = sub_id
            invoice = self._invoice(sub, status="paid", billing_reason="subscription_create")
            session["invoice"] = invoice["id"]
            return [
                self.event("customer.subscription.created", sub),
                self.event("invoice.paid", invoice),
                self.event("checkout.session.completed", session),
            ]

    def fail_renewal(self, sub_id: str) -> list[dict]:
        """The next period's payment is declined: the subscription becomes past_due."""
        with self._lock:
            sub = self.subscriptions[sub_id]
            self._next_period(sub)
            sub["status"] = "past_due"
            invoice = self._invoice(sub, status="open", billing_reason="subscription_cycle")
            return [
                self.event("invoice.payment_failed", invoice),
                self.event("customer.subscription.updated", sub, previous={"status": "active"}),
            ]

    def pay_open_invoice(self, sub_id: str) -> list[dict]:
        """The customer updates the card and the open invoice is paid: active again."""
        with self._lock:
            sub = self.subscriptions[sub_id]
            previous = sub["status"]
            sub["status"] = "active"
            invoice = self.invoices[sub["latest_invoice"]]
            invoice.update(
                status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempt_count=2
            )
            return [
                self.event("invoice.paid", invoice),
                self.event("customer.subscription.updated", sub, previous={"status": previous}),
            ]

    def give_up(self, sub_id: str) -> list[dict]:
        """Retries exhausted: Stripe marks the subscription unpaid."""
        with self._lock:
            sub = self.subscriptions[sub_id]
            sub["status"] = "unpaid"
            return [self.event("customer.subscription.updated", sub, previous={"status": "past_due"})]

    def schedule_cancel(self, sub_id: str) -> list[dict]:
        """Cancelled in the Billing Portal, effective at the end of the period."""
        with self._lock:
            sub = self.subscriptions[sub_id]
            sub.update(cancel_at_period_end=True, cancel_at=sub["items"]["data"][0]["current_period_end"])
            return [
                self.event("customer.subscription.updated", sub, previous={"cancel_at_period_end": False})
            ]

    def end_subscription(self, sub_id: str) -> list[dict]:
        """The subscription ends (cancelled now or at period end)."""
        with self._lock:
            sub = self.subscriptions[sub_id]
            sub.update(status="canceled", canceled_at=self.clock, ended_at=self.clock)
            return [self.event("customer.subscription.deleted", sub)]

    def _next_period(self, sub: dict) -> None:
        item = sub["items"]["data"][0]
        length = item["current_period_end"] - item["current_period_start"]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] += length

    # --- Hosted pages (for browser tests): Checkout's "Pay" button and the Billing Portal ---------------

    def hosted_page(self, method: str, path: str) -> tuple[int, str, str] | None:
        match = re.fullmatch(r"/c/pay/(cs_test_\w+)", path)
        if match and match.group(1) in self.sessions:
            session = self.sessions[match.group(1)]["object"]
            if method == "POST":
                self.deliver(self.complete_checkout(session["id"]))
                return 303, session["success_url"], ""
            amount = f"{(session['amount_total'] or 0) / 100:.2f} €"
            return (
                200,
                "",
                (
                    f"<!doctype html><title>Fake Checkout</title><h1>Fake Stripe Checkout</h1><p>{amount}</p>"
                    f'<form method="post"><button>Pay</button></form>'
                    f'<a href="{session["cancel_url"]}">Back</a>'
                ),
            )
        match = re.fullmatch(r"/p/session/(bps_\w+)", path)
        if match and match.group(1) in self.portal_sessions:
            portal = self.portal_sessions[match.group(1)]
            return (
                200,
                "",
                (
                    "<!doctype html><title>Fake Billing Portal</title><h1>Fake Stripe Billing Portal</h1>"
                    f'<a href="{portal["return_url"]}">Return</a>'
                ),
            )
        return None

    def deliver(self, events: list[dict]) -> None:
        """POST events to `webhook_url`, signed, as Stripe's delivery does; each must be acknowledged."""
        import urllib.request

        for event in events:
            body, signature = self.signed(event)
            request = urllib.request.Request(  # noqa: S310  (a local test URL)
                self.webhook_url,
                data=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert response.status == 200

    # --- Delivery ------------------------------------------------------------------------------------

    def signed(
        self, event: dict, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """The body and `Stripe-Signature` header of a webhook delivery of `event`."""
        body = json.dumps(event, separators=(",", ":")).encode()
        return body, sign(body, secret or self.webhook_secret, timestamp)
