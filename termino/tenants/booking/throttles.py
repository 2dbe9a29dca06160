"""Rate limits of the public booking API.

Every endpoint is limited per client IP and business (`public_read`, `public_booking`: requests per
minute). Endpoints that send an SMS (booking, rescheduling, cancelling) are limited on top by what
they send, to stop SMS pumping (bookings made to send texts to premium numbers):
- per phone number at this business (`public_sms_phone`), and across all businesses
  (`public_sms_phone_platform`), so one number cannot be flooded from many addresses or businesses;
- per client IP at this business (`public_sms_ip`), so one address cannot text many numbers.
These count only requests that succeeded (a failed one sends nothing): a customer who picked a time
just taken is not punished for trying again.

The client IP comes from termino.shared.client_ip (X-Forwarded-For trusted exactly NUM_PROXIES deep),
so a forged header does not change the key. Counters live in the tenant-keyed cache (per business) or
the `platform` cache (across businesses).
"""

import hashlib
import math

import phonenumbers
from django.core.cache import caches
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from termino.shared.client_ip import client_ip


def normalised_phone(raw: str, region: str = "DE") -> str:
    """E.164 form of a phone number ("0170 1234567" → "+491701234567"), or "" if it is none."""
    if not raw or not str(raw).strip():
        return ""
    try:
        number = phonenumbers.parse(str(raw)[:40], region or "DE")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _digest(value: str) -> str:
    # Cache keys need no phone numbers in clear text.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class ClientIpRateThrottle(ScopedRateThrottle):
    """Requests per client IP and business, in the view's `throttle_scope`."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


def _rate(scope: str) -> str | None:
    # Read when the throttle is made (not at import), so settings changes apply; "" switches it off.
    return api_settings.DEFAULT_THROTTLE_RATES.get(scope) or None


class _SuccessCountingThrottle(SimpleRateThrottle):
    """Refuses once `rate` successes are counted; the view calls `record()` after a success."""

    cache_name = "default"
    message = ""

    def __init__(self):
        self.cache = caches[self.cache_name]
        super().__init__()

    def get_rate(self):
        return _rate(self.scope)

    def get_key_value(self, request, view) -> str:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        value = self.get_key_value(request, view)
        if not value:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _digest(value)}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self._history()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    def _history(self) -> list[float]:
        self.now = self.timer()
        history = list(self.cache.get(self.key, []))
        return [moment for moment in history if moment > self.now - self.duration]

    def record(self) -> None:
        if self.rate is None or getattr(self, "key", None) is None:
            return
        history = self._history()
        history.insert(0, self.now)
        self.cache.set(self.key, history, self.duration)

    def human_message(self, wait: float | None) -> str:
        minutes = max(1, math.ceil((wait or 60) / 60))
        return self.message % {"minutes": minutes}


class SmsPhoneThrottle(_SuccessCountingThrottle):
    """Bookings and changes per phone number at this business."""

    scope = "public_sms_phone"

    @property
    def message(self):
        return _(
            "This phone number has been used for too many bookings or changes in a short time. Please try "
            "again in %(minutes)d minutes or call the business."
        )

    def get_key_value(self, request, view) -> str:
        return view.sms_phone(request)


class SmsPhonePlatformThrottle(SmsPhoneThrottle):
    """The same number across every business on the platform."""

    scope = "public_sms_phone_platform"
    cache_name = "platform"


class SmsIpThrottle(_SuccessCountingThrottle):
    """Bookings and changes per client IP at this business."""

    scope = "public_sms_ip"

    @property
    def message(self):
        return _(
            "Too many bookings or changes from your connection in a short time. Please try again in "
            "%(minutes)d minutes or call the business."
        )

    def get_key_value(self, request, view) -> str:
        return client_ip(request) or "unknown"


def _throttled(detail: str, wait: float | None) -> Throttled:
    exc = Throttled(detail=detail)
    exc.wait = math.ceil(wait) if wait else None  # still answered as Retry-After, without DRF's sentence
    return exc


class HumanThrottledMixin:
    """429 answers that say in words how long to wait (the Retry-After header says it in seconds)."""

    def throttled(self, request, wait):
        minutes = max(1, math.ceil((wait or 60) / 60))
        if wait and wait < 120:
            detail = _("Too many requests. Please wait %(seconds)d seconds and try again.") % {
                "seconds": math.ceil(wait)
            }
        else:
            detail = _("Too many requests. Please try again in %(minutes)d minutes.") % {"minutes": minutes}
        raise _throttled(detail, wait)


class SmsThrottledMixin:
    """For API views that send an SMS: the limits above, with a message a person understands.

    The view says which phone number a request would text through `sms_phone(request)`.
    """

    sms_throttle_classes = [SmsPhoneThrottle, SmsPhonePlatformThrottle, SmsIpThrottle]

    def sms_phone(self, request) -> str:
        raise NotImplementedError

    def check_throttles(self, request):
        super().check_throttles(request)  # per-IP request rate first
        self._sms_throttles = [throttle() for throttle in self.sms_throttle_classes]
        refused = [t for t in self._sms_throttles if not t.allow_request(request, self)]
        if refused:
            waits = [(t.wait() or 0, t) for t in refused]
            wait, throttle = max(waits, key=lambda pair: pair[0])
            raise _throttled(throttle.human_message(wait), wait)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if 200 <= response.status_code < 300:
            for throttle in getattr(self, "_sms_throttles", []):
                throttle.record()
        return response
