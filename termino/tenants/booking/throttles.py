"""Rate limits of the public booking API, on termino.shared.ratelimit: they hold under concurrency.

Every endpoint is limited per client IP and business (`public_read`, `public_booking`), every request
counted. Endpoints that send an SMS (booking, rescheduling, cancelling) are limited on top by what they
send, to stop SMS pumping (bookings made to send texts to premium numbers):
- per phone number at this business (`public_sms_phone`) and across all businesses
  (`public_sms_phone_platform`), so one number cannot be flooded from many addresses or businesses;
- per client IP at this business (`public_sms_ip`), so one address cannot text many numbers;
- per business (`public_sms_business`, requests that carry a phone number), so many addresses cannot
  text many numbers through one business either.
These count only requests that succeeded: the view takes a reservation before the work, so concurrent
requests cannot all slip past one check, and hands it back when the request failed (nothing was sent) —
a customer who picked a time just taken is not punished for trying again.

The limits are settings.PUBLIC_RATE_LIMITS. The client IP comes from termino.shared.client_ip
(X-Forwarded-For trusted exactly NUM_PROXIES deep, so a forged header changes nothing); an IPv6 client
counts by its /64, the network one subscriber gets. Keys are hashed: Redis holds no addresses or numbers.
"""

import ipaddress
import math

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import APIException, Throttled

from termino.shared import ratelimit
from termino.shared.client_ip import client_ip
from termino.shared.ratelimit import Limit, RateLimited, Reservation

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Without Redis the request limits stay open (free times harm nobody, and a booking is the business's
# revenue; the exclusion constraint, form token and honeypot still hold); the SMS limits fail closed, or
# an outage would open the door to SMS pumping.
FAIL_OPEN = {"public_read", "public_booking"}
PHONE_SCOPES = ("public_sms_phone", "public_sms_phone_platform")


def limit(scope: str) -> Limit | None:
    """The limit `scope` of settings.PUBLIC_RATE_LIMITS ("20/min", "5/hour"), or None when switched off."""
    rate = str(settings.PUBLIC_RATE_LIMITS.get(scope) or "").strip()
    if not rate:
        return None
    count, _sep, period = rate.partition("/")
    try:
        return Limit(scope, int(count), PERIODS[period.strip()[:1].lower()], fail_open=scope in FAIL_OPEN)
    except (KeyError, ValueError) as exc:
        raise ImproperlyConfigured(f"PUBLIC_RATE_LIMITS[{scope!r}] = {rate!r}: write e.g. 20/min") from exc


def client_key(request) -> str:
    """The client's address as a limit key: an IPv4 address, or the /64 network of an IPv6 client."""
    ip = client_ip(request)
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return ip


def minutes(wait: float | None) -> int:
    return max(1, math.ceil((wait or 60) / 60))


def throttled(detail: str, wait: float | None) -> Throttled:
    """A 429 with our sentence; DRF adds the Retry-After header from `wait`."""
    exc = Throttled(detail=detail)
    exc.wait = math.ceil(wait) if wait else None
    return exc


class SmsLimitsUnavailable(APIException):
    """503: the SMS limits cannot be checked (Redis is away), so no SMS-sending request is taken."""

    status_code = 503
    default_code = "sms_limits_unavailable"

    def __init__(self, wait: int):
        super().__init__(
            _("Text messages are briefly unavailable. Please try again in a minute, or book without SMS.")
        )
        self.wait = wait


def request_refusal(wait: float | None) -> str:
    if wait and wait < 120:
        seconds = math.ceil(wait)
        return ngettext(
            "Too many requests. Please wait %(seconds)d second and try again.",
            "Too many requests. Please wait %(seconds)d seconds and try again.",
            seconds,
        ) % {"seconds": seconds}
    return ngettext(
        "Too many requests. Please try again in %(minutes)d minute.",
        "Too many requests. Please try again in %(minutes)d minutes.",
        minutes(wait),
    ) % {"minutes": minutes(wait)}


def sms_refusal(scope: str, wait: float | None) -> str:
    """Why a request that would send an SMS is refused, and for how long, in words."""
    n = minutes(wait)
    values = {"minutes": n}
    if scope in PHONE_SCOPES:
        return (
            ngettext(
                "This phone number has been used for too many bookings or changes in a short time. Please "
                "try again in %(minutes)d minute or call the business.",
                "This phone number has been used for too many bookings or changes in a short time. Please "
                "try again in %(minutes)d minutes or call the business.",
                n,
            )
            % values
        )
    if scope == "public_sms_ip":
        return (
            ngettext(
                "Too many bookings or changes from your connection in a short time. Please try again in "
                "%(minutes)d minute or call the business.",
                "Too many bookings or changes from your connection in a short time. Please try again in "
                "%(minutes)d minutes or call the business.",
                n,
            )
            % values
        )
    return (
        ngettext(
            "This business is receiving unusually many online bookings right now. Please try again in "
            "%(minutes)d minute or call the business.",
            "This business is receiving unusually many online bookings right now. Please try again in "
            "%(minutes)d minutes or call the business.",
            n,
        )
        % values
    )


class RequestRateLimitMixin:
    """Every request counted per client IP and business in the view's `rate_scope`; a 429 in words."""

    rate_scope = "public_read"
    throttle_classes: list = []  # DRF's throttles read, then write: not atomic

    def check_throttles(self, request):
        rule = limit(self.rate_scope)
        if rule is None:
            return
        try:
            ratelimit.take((rule, ratelimit.key_of(request.tenant.schema_name, client_key(request))))
        except RateLimited as exc:  # (request limits fail open: never LimitUnavailable)
            raise throttled(request_refusal(exc.retry_after), exc.retry_after) from None


class SmsRateLimitMixin(RequestRateLimitMixin):
    """For API views that send an SMS: the limits above, counted in successful requests.

    The view says which phone number a request would text through `sms_phone(request)` ("" when it would
    text nobody: no number, or no SMS consent); a request that texts nobody is not counted here.
    """

    sms_reservation: Reservation | None = None

    def sms_phone(self, request) -> str:
        raise NotImplementedError

    def check_throttles(self, request):
        super().check_throttles(request)  # the request rate first, counted whatever happens
        schema = request.tenant.schema_name
        phone = self.sms_phone(request)
        if not phone:
            return
        checks = [
            ("public_sms_phone", ratelimit.key_of(schema, phone)),
            ("public_sms_phone_platform", ratelimit.key_of(phone)),
            ("public_sms_ip", ratelimit.key_of(schema, client_key(request))),
            ("public_sms_business", ratelimit.key_of(schema)),
        ]
        rules = [(rule, key) for scope, key in checks if (rule := limit(scope)) is not None]
        try:
            self.sms_reservation = ratelimit.take(*rules)
        except ratelimit.LimitUnavailable as exc:
            raise SmsLimitsUnavailable(exc.retry_after) from None
        except RateLimited as exc:
            raise throttled(sms_refusal(exc.limit.name, exc.retry_after), exc.retry_after) from None

    def sms_release(self) -> None:
        """Nothing was sent: hand the counted request back."""
        if self.sms_reservation is not None:
            self.sms_reservation.release()
            self.sms_reservation = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            self.sms_release()
        return response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:  # an error DRF did not turn into a response: nothing was sent either
            self.sms_release()
            raise
