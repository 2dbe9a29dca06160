"""A local stand-in for Stripe's API: an HTTP server on 127.0.0.1 that speaks the endpoints Termino uses,
with Stripe's documented object shapes, plus helpers that play what happens on Stripe's side (a customer
pays, a renewal fails, a subscription is cancelled) and return the webhook events Stripe would send,
signed the way Stripe signs them.

Endpoints: POST /v1/customers, POST /v1/checkout/sessions, POST /v1/billing_portal/sessions,
GET /v1/subscriptions/{id}, DELETE /v1/subscriptions/{id}. Requests need `Authorization: Bearer <key>`;
bodies are form-encoded with Stripe's bracket notation (`line_items[0][price_data][currency]=eur`).

Connect (a business's own account; requests on it carry `Stripe-Account: acct_…`): POST /v1/accounts,
GET /v1/accounts/{id}, POST /v1/account_links, and on a connected account POST /v1/customers,
POST /v1/checkout/sessions (mode payment with payment_intent_data[application_fee_amount], or mode setup),
GET /v1/checkout/sessions/{id}, POST /v1/checkout/sessions/{id}/expire, GET /v1/setup_intents/{id},
POST /v1/payment_intents (off_session, confirm), GET /v1/payment_intents/{id}, POST /v1/refunds. An object
of one account is "No such …" on any other. `Idempotency-Key` is honoured as Stripe does: the same key
(per account) answers the first response again. Hosted pages: the onboarding (/connect/onboard/{link}) and
Checkout (/c/pay/{session}) are real HTML pages whose buttons POST, deliver the signed events of the
connected account (`account` set) to `connect_webhook_url`, then redirect to the return or success URL.
Events of connected accounts: account.updated, checkout.session.completed, checkout.session.expired,
payment_intent.succeeded, payment_intent.payment_failed, setup_intent.succeeded, charge.refunded.
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

from tests.fakes.serving import serve_in_thread, stop_serving

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
    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        webhook_url: str = "",
        connect_webhook_secret: str = "whsec_connect_fake",  # noqa: S107  (the fake's own test secret)
        connect_webhook_url: str = "",
    ):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.connect_webhook_secret = connect_webhook_secret
        self.connect_webhook_url = connect_webhook_url
        self.accounts: dict[str, dict] = {}
        self.account_links: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.setup_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.declining_methods: set[str] = set()  # payment methods whose off-session charge is declined
        self._idempotent: dict[tuple, tuple[int, dict]] = {}
        self._pending: list[dict] = []
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
        serve_in_thread(self._server, name="fake-stripe")
        return self

    def stop(self) -> None:
        if self._server:
            stop_serving(self._server)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(self, method: str, path: str, params: dict, headers: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "params": params, "headers": headers})
            lower = {k.lower(): v for k, v in headers.items()}
            account = lower.get("stripe-account", "")
            key = (account, method, path, lower.get("idempotency-key", ""))
            if method == "POST" and key[3] and key in self._idempotent:
                return self._idempotent[key]  # Stripe answers a repeated key with the first response
            try:
                self._authenticate(headers)
                if account or path.startswith(("/v1/accounts", "/v1/account_links")):
                    answer = 200, self._connect_route(method, path, params, account)
                else:
                    answer = 200, self._route(method, path, params)
            except StripeError as exc:
                answer = exc.status, exc.body
            if method == "POST" and key[3] and answer[0] < 500:
                self._idempotent[key] = answer
            return answer

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
        self,
        type_: str,
        obj: dict,
        *,
        created: int | None = None,
        previous: dict | None = None,
        account: str | None = None,
    ) -> dict:
        data = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        extra = {"account": account} if account else {}
        return {
            **extra,
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
        connect = self.connect_hosted_page(method, path)
        if connect is not None:
            return connect
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

    def deliver(self, events: list[dict], *, connect: bool = False) -> None:
        """POST events to `webhook_url` (`connect_webhook_url`), signed, as Stripe's delivery does; each must
        be acknowledged."""
        import urllib.request

        for event in events:
            body, signature = self.signed(event, secret=self.connect_webhook_secret if connect else None)
            request = urllib.request.Request(  # noqa: S310  (a local test URL)
                self.connect_webhook_url if connect else self.webhook_url,
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

    # --- Connect ---------------------------------------------------------------------------------------

    def _connect_route(self, method: str, path: str, params: dict, account: str) -> dict:
        if not account:
            if method == "POST" and path == "/v1/accounts":
                return self._account_create(params)
            match = re.fullmatch(r"/v1/accounts/(acct_\w+)", path)
            if match and method == "GET":
                return self._account(match.group(1))
            if method == "POST" and path == "/v1/account_links":
                return self._account_link_create(params)
            raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        self._account(account)
        if method == "POST" and path == "/v1/customers":
            customer = self._customer_create(params)
            customer["account"] = account
            return {k: v for k, v in customer.items() if k != "account"}
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._connect_checkout_create(params, account)
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_test_\w+)(/expire)?", path)
        if match:
            stored = self._owned(self.sessions, match.group(1), account, "checkout.session")
            if match.group(2) and method == "POST":
                return self._session_expire(stored)
            if method == "GET":
                return stored["object"]
        match = re.fullmatch(r"/v1/setup_intents/(seti_\w+)", path)
        if match and method == "GET":
            return self._owned(self.setup_intents, match.group(1), account, "setup_intent")["object"]
        match = re.fullmatch(r"/v1/payment_intents/(pi_\w+)", path)
        if match and method == "GET":
            return self._owned(self.payment_intents, match.group(1), account, "payment_intent")["object"]
        if method == "POST" and path == "/v1/payment_intents":
            return self._payment_intent_create(params, account)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params, account)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _owned(self, store: dict, object_id: str, account: str, name: str) -> dict:
        stored = store.get(object_id)
        if stored is None or stored.get("account") != account:
            raise StripeError(404, f"No such {name}: '{object_id}'", param="id", code="resource_missing")
        return stored

    def _account(self, account_id: str) -> dict:
        if account_id not in self.accounts:
            raise StripeError(
                403,
                f"The provided key does not have access to account '{account_id}' (or that account does not "
                "exist). Application access may have been revoked.",
                code="account_invalid",
            )
        return self.accounts[account_id]

    def _account_create(self, params: dict) -> dict:
        account = {
            "id": _id("acct"),
            "object": "account",
            "business_profile": params.get("business_profile") or {},
            "business_type": None,
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
            "charges_enabled": False,
            "controller": {"type": "application", "is_controller": True},
            "country": params.get("country", "DE"),
            "created": self.clock,
            "default_currency": params.get("default_currency", "eur"),
            "details_submitted": False,
            "email": params.get("email"),
            "metadata": params.get("metadata") or {},
            "payouts_enabled": False,
            "requirements": {
                "currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                "disabled_reason": "requirements.past_due",
                "eventually_due": ["business_type", "external_account", "tos_acceptance.date"],
                "past_due": ["business_type", "external_account", "tos_acceptance.date"],
            },
            "type": params.get("type", "express"),
        }
        self.accounts[account["id"]] = account
        return account

    def _account_link_create(self, params: dict) -> dict:
        self._require(params, "account", "type", "return_url", "refresh_url")
        self._account(params["account"])
        link_id = secrets.token_hex(8)
        link = {
            "object": "account_link",
            "created": self.clock,
            "expires_at": self.clock + 300,
            "url": f"{self.base_url}/connect/onboard/{link_id}",
        }
        self.account_links[link_id] = {"object": link, "params": params}
        return link

    def _connect_checkout_create(self, params: dict, account: str) -> dict:
        self._require(params, "mode", "success_url")
        mode = params["mode"]
        if not self.accounts[account]["charges_enabled"]:
            raise StripeError(400, "Your account cannot currently make live charges.", code="account_invalid")
        expires_at = int(params.get("expires_at") or self.clock + 86400)
        if not self.clock + 1800 - 5 <= expires_at <= self.clock + 86400 + 5:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session "
                "creation.",
                param="expires_at",
            )
        amount = None
        if mode == "payment":
            self._require(params, "line_items")
            price = params["line_items"][0]["price_data"]
            amount = int(price["unit_amount"]) * int(params["line_items"][0].get("quantity", 1))
            fee = int((params.get("payment_intent_data") or {}).get("application_fee_amount") or 0)
            if fee > amount:
                raise StripeError(
                    400, "The application fee cannot exceed the amount.", param="application_fee_amount"
                )
        elif mode == "setup":
            self._require(params, "currency")
            customer = params.get("customer")
            if customer and self.customers.get(customer, {}).get("account") != account:
                raise StripeError(
                    400, f"No such customer: '{customer}'", param="customer", code="resource_missing"
                )
        else:
            raise StripeError(400, f"Invalid mode: {mode}", param="mode")
        session = {
            "id": _id("cs_test"),
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": self.clock,
            "currency": (params.get("currency") or "eur") if mode == "setup" else price["currency"],
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": params.get("metadata") or {},
            "mode": mode,
            "payment_intent": None,
            "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
            "setup_intent": None,
            "status": "open",
            "success_url": params["success_url"],
            "ui_mode": "hosted",
            "url": None,
        }
        session["url"] = f"{self.base_url}/c/pay/{session['id']}"
        self.sessions[session["id"]] = {"object": session, "params": params, "account": account}
        return session

    def _session_expire(self, stored: dict) -> dict:
        session = stored["object"]
        if session["status"] != "open":
            raise StripeError(
                400,
                f'Only Checkout Sessions with a status in ["open"] can be expired. This session has a '
                f'status of "{session["status"]}".',
            )
        session["status"] = "expired"
        return session

    def _payment_intent(self, account: str, *, amount: int, fee: int, metadata: dict, **fields) -> dict:
        intent = {
            "id": _id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "application_fee_amount": fee or None,
            "created": self.clock,
            "currency": "eur",
            "customer": fields.get("customer"),
            "description": fields.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method": fields.get("payment_method") or _id("pm"),
            "status": "requires_payment_method",
        }
        self.payment_intents[intent["id"]] = {"object": intent, "account": account}
        return intent

    def _succeed(self, intent: dict, account: str) -> dict:
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "application_fee_amount": intent["application_fee_amount"],
            "created": self.clock,
            "currency": intent["currency"],
            "metadata": intent["metadata"],
            "paid": True,
            "payment_intent": intent["id"],
            "refunded": False,
            "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0},
            "status": "succeeded",
        }
        self.charges[charge["id"]] = {"object": charge, "account": account}
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"])
        return charge

    def _payment_intent_create(self, params: dict, account: str) -> dict:
        self._require(params, "amount", "currency")
        amount, fee = int(params["amount"]), int(params.get("application_fee_amount") or 0)
        if fee > amount:
            raise StripeError(
                400, "The application fee cannot exceed the amount.", param="application_fee_amount"
            )
        customer = params.get("customer")
        if customer and self.customers.get(customer, {}).get("account") != account:
            raise StripeError(
                400, f"No such customer: '{customer}'", param="customer", code="resource_missing"
            )
        intent = self._payment_intent(
            account,
            amount=amount,
            fee=fee,
            metadata=params.get("metadata") or {},
            customer=customer,
            payment_method=params.get("payment_method"),
            description=params.get("description"),
        )
        if str(params.get("confirm")).lower() != "true":
            return intent
        if intent["payment_method"] in self.declining_methods:
            error = {
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.pending_events.append(self.event("payment_intent.payment_failed", intent, account=account))
            raise StripeError(
                402,
                error["message"],
                type_="card_error",
                code="card_declined",
                decline_code="insufficient_funds",
                payment_intent=intent,
            )
        self._succeed(intent, account)
        self.pending_events.append(self.event("payment_intent.succeeded", intent, account=account))
        return intent

    def _refund_create(self, params: dict, account: str) -> dict:
        intent_id = params.get("payment_intent")
        stored = self.payment_intents.get(intent_id or "")
        if stored is None or stored["account"] != account:
            raise StripeError(
                400, f"No such payment_intent: '{intent_id}'", param="payment_intent", code="resource_missing"
            )
        intent = stored["object"]
        if intent["status"] != "succeeded":
            raise StripeError(400, "This PaymentIntent does not have a successful charge to refund.")
        charge = self.charges[intent["latest_charge"]]["object"]
        amount = int(params.get("amount") or charge["amount"] - charge["amount_refunded"])
        if amount <= 0 or charge["amount_refunded"] + amount > charge["amount"]:
            raise StripeError(
                400,
                f"Refund amount ({amount / 100:.2f} €) is greater than unrefunded amount on charge "
                f"({(charge['amount'] - charge['amount_refunded']) / 100:.2f} €)",
                param="amount",
                code="charge_already_refunded" if amount > 0 else "parameter_invalid_integer",
            )
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": self.clock,
            "currency": charge["currency"],
            "metadata": params.get("metadata") or {},
            "payment_intent": intent["id"],
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = {"object": refund, "account": account, "params": params}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].insert(0, refund)
        charge["refunds"]["total_count"] += 1
        self.pending_events.append(self.event("charge.refunded", charge, account=account))
        return refund

    # What happens on Stripe's side of Connect, as events (delivered by the hosted pages, or by tests).

    @property
    def pending_events(self) -> list[dict]:
        """Events the API calls caused (a charge, a refund), waiting for `take_pending`."""
        return self._pending

    def take_pending(self) -> list[dict]:
        with self._lock:
            events, self._pending = list(self.pending_events), []
            return events

    def complete_onboarding(self, account_id: str) -> list[dict]:
        with self._lock:
            account = self.accounts[account_id]
            account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
            account["capabilities"] = {"card_payments": "active", "transfers": "active"}
            account["requirements"] = {
                "currently_due": [],
                "disabled_reason": None,
                "eventually_due": [],
                "past_due": [],
            }
            return [self.event("account.updated", account, account=account_id)]

    def restrict_account(
        self,
        account_id: str,
        reason: str = "requirements.past_due",
        due: tuple = ("individual.verification.document",),
    ) -> list[dict]:
        with self._lock:
            account = self.accounts[account_id]
            account.update(charges_enabled=False, details_submitted=True)
            account["requirements"] = {
                "currently_due": list(due),
                "disabled_reason": reason,
                "eventually_due": list(due),
                "past_due": list(due),
            }
            return [self.event("account.updated", account, account=account_id)]

    def pay_checkout(self, session_id: str) -> list[dict]:
        """The customer pays (or saves the card) on a connected account's Checkout page."""
        with self._lock:
            stored = self.sessions[session_id]
            session, params, account = stored["object"], stored["params"], stored["account"]
            if session["status"] != "open":
                raise StripeError(400, "This Checkout Session is no longer open.")
            session["status"] = "complete"
            if session["mode"] == "setup":
                intent = {
                    "id": _id("seti"),
                    "object": "setup_intent",
                    "created": self.clock,
                    "customer": session["customer"],
                    "description": (params.get("setup_intent_data") or {}).get("description"),
                    "metadata": (params.get("setup_intent_data") or {}).get("metadata") or {},
                    "payment_method": _id("pm"),
                    "status": "succeeded",
                    "usage": "off_session",
                }
                self.setup_intents[intent["id"]] = {"object": intent, "account": account}
                session["setup_intent"] = intent["id"]
                return [
                    self.event("setup_intent.succeeded", intent, account=account),
                    self.event("checkout.session.completed", session, account=account),
                ]
            data = params.get("payment_intent_data") or {}
            intent = self._payment_intent(
                account,
                amount=session["amount_total"],
                fee=int(data.get("application_fee_amount") or 0),
                metadata=data.get("metadata") or {},
                description=data.get("description"),
            )
            self._succeed(intent, account)
            session.update(payment_status="paid", payment_intent=intent["id"])
            return [
                self.event("checkout.session.completed", session, account=account),
                self.event("payment_intent.succeeded", intent, account=account),
            ]

    def decline_checkout(self, session_id: str) -> list[dict]:
        """The card is declined on the Checkout page (the session stays open, as Stripe's does)."""
        with self._lock:
            stored = self.sessions[session_id]
            data = stored["params"].get("payment_intent_data") or {}
            intent = self._payment_intent(
                stored["account"],
                amount=stored["object"]["amount_total"],
                fee=int(data.get("application_fee_amount") or 0),
                metadata=data.get("metadata") or {},
            )
            intent["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
            stored["object"]["payment_intent"] = intent["id"]
            return [self.event("payment_intent.payment_failed", intent, account=stored["account"])]

    def expire_checkout(self, session_id: str) -> list[dict]:
        """The session's time is up."""
        with self._lock:
            stored = self.sessions[session_id]
            stored["object"]["status"] = "expired"
            return [self.event("checkout.session.expired", stored["object"], account=stored["account"])]

    def connect_hosted_page(self, method: str, path: str) -> tuple[int, str, str] | None:
        match = re.fullmatch(r"/connect/onboard/(\w+)", path)
        if match and match.group(1) in self.account_links:
            params = self.account_links[match.group(1)]["params"]
            if method == "POST":
                self.deliver(self.complete_onboarding(params["account"]), connect=True)
                return 303, params["return_url"], ""
            return (
                200,
                "",
                (
                    "<!doctype html><title>Fake Stripe onboarding</title>"
                    "<h1>Fake Stripe Express onboarding</h1>"
                    f"<p>{params['account']}</p>"
                    '<form method="post"><button>Complete onboarding</button></form>'
                    f'<a href="{params["refresh_url"]}">Link expired</a>'
                ),
            )
        match = re.fullmatch(r"/c/pay/(cs_test_\w+)", path)
        stored = self.sessions.get(match.group(1)) if match else None
        if stored is None or "account" not in stored:
            return None
        session = stored["object"]
        if method == "POST":
            self.deliver(self.pay_checkout(session["id"]), connect=True)
            return 303, session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]), ""
        if session["mode"] == "setup":
            what, button = "Save your card for later", "Save card"
        else:
            what, button = f"{(session['amount_total'] or 0) / 100:.2f} €", "Pay"
        return (
            200,
            "",
            (
                f"<!doctype html><title>Fake Checkout</title><h1>Fake Stripe Checkout</h1><p>{what}</p>"
                f'<form method="post"><button>{button}</button></form>'
                f'<a href="{session["cancel_url"]}">Back</a>'
            ),
        )
