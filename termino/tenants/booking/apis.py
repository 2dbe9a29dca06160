"""Anonymous booking API of one business (`/api/public/v1/`): what can be booked, when, and booking it.

No cookies are needed (the booking page works with third-party cookies blocked). Bots are kept out by a
honeypot field and a signed form token that must be at least a few seconds old; every endpoint is
rate-limited per IP (`429` with `Retry-After`); those that send an SMS also per phone number and business
(throttles.py). SMS go only to mobile numbers of the countries the business allows: any other number with
SMS consent is refused before anything is stored. One visitor holds only a few slots at once.
"""

import hashlib
import json
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.platform.tenancy.routing import primary_url
from termino.shared import phones, timeutils
from termino.shared.errors import ConflictError, InvalidRequest
from termino.shared.timefields import InstantField
from termino.tenants.business.models import BusinessSettings
from termino.tenants.compliance.services import booking_notice_current
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.scheduling import availability, selectors, slot_json
from termino.tenants.scheduling.apis import AvailabilityInput, plausible_date
from termino.tenants.scheduling.models import Service
from termino.tenants.scheduling.series_selectors import series_occurrences

from . import payment_flow, series_online, services, slots_cache
from .gate import OnlineBookingOpen
from .models import IdempotentRequest
from .throttles import RequestRateLimitMixin, SmsRateLimitMixin, client_key, minutes

FORM_TOKEN_SALT = "termino.booking.form"  # noqa: S105  (a signing namespace, not a secret)
MAX_FORM_AGE = 2 * 60 * 60
BOT_MESSAGE = _("Your booking could not be processed. Please reload the page and try again.")


class PublicApi(RequestRateLimitMixin, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny, OnlineBookingOpen]
    rate_scope = "public_read"


def form_token() -> str:
    """Signed time the form was handed out (a booking that comes back too soon was not typed by a person),
    with a random part: each form is its own, e.g. for the holds it places."""
    return signing.Signer(salt=FORM_TOKEN_SALT).sign(
        f"{timeutils.now().timestamp():.3f}-{secrets.token_hex(8)}"
    )


def form_token_age(token: str) -> float:
    """Seconds since the form was handed out; BadSignature or ValueError for a token we did not sign."""
    issued = signing.Signer(salt=FORM_TOKEN_SALT).unsign(token).partition("-")[0]
    return timeutils.now().timestamp() - float(issued)


def visitor_key(value: str) -> str:
    """A keyed hash of a client address or form token, to count holds by without storing either."""
    return salted_hmac("termino.booking.visitor", value).hexdigest()[:32]


# --- Reading -----------------------------------------------------------------------------------------------


class PublicSeriesOutput(serializers.Serializer):
    count = serializers.IntegerField(source="online_series_count", help_text="appointments in the course")
    interval_weeks = serializers.IntegerField(source="online_series_interval_weeks")
    label = serializers.CharField(
        source="online_series_label", help_text='e.g. "Course: 6 appointments, weekly"'
    )


class PublicServiceOutput(serializers.ModelSerializer):
    staff = serializers.SerializerMethodField()
    series = serializers.SerializerMethodField(
        help_text="Set for a course: booked only as a whole series of appointments (null otherwise)."
    )

    class Meta:
        model = Service
        fields = [
            "id", "name", "description", "duration_minutes", "price", "colour", "capacity", "staff", "series",
        ]  # fmt: skip

    def get_staff(self, obj) -> list[dict]:
        return [{"id": r.pk, "name": r.name} for r in obj.resources.all() if r.kind == "staff" and r.active]

    @extend_schema_field(PublicSeriesOutput(allow_null=True))
    def get_series(self, obj) -> dict | None:
        return PublicSeriesOutput(obj).data if obj.online_series else None


class ServicesApi(PublicApi):
    @extend_schema(
        responses=inline_serializer(
            "PublicServices",
            {
                "business": serializers.DictField(),
                "services": PublicServiceOutput(many=True),
                "form_token": serializers.CharField(),
                "form_min_seconds": serializers.FloatField(
                    help_text="A booking sent sooner than this after the form token came is refused."
                ),
            },
        )
    )
    def get(self, request):
        tenant = request.tenant
        rules = BusinessSettings.current()
        services_ = Service.objects.filter(active=True, bookable_online=True).prefetch_related("resources")
        return Response(
            {
                "business": {
                    "name": tenant.name,
                    "street": tenant.street,
                    "postcode": tenant.postcode,
                    "city": tenant.city,
                    "phone": tenant.phone,
                    "time_zone": tenant.time_zone,
                    "cancel_cutoff_hours": rules.cancel_cutoff_hours,
                    "privacy_policy_version": booking_notice_current(tenant, rules).version,
                },
                "services": PublicServiceOutput(services_, many=True).data,
                "form_token": form_token(),
                "form_min_seconds": settings.PUBLIC_FORM_MIN_SECONDS,
            }
        )


PublicSlotOutput = inline_serializer(
    "PublicSlot",
    {
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
        "resources": serializers.ListField(child=serializers.IntegerField()),
        "occurrences": serializers.ListField(
            child=inline_serializer(
                "PublicOccurrence", {"start": serializers.DateTimeField(), "end": serializers.DateTimeField()}
            ),
            required=False,
            help_text="Only for a course: every appointment booked with this start, the first included.",
        ),
    },
)


class AvailabilityApi(PublicApi):
    """Free slots for the booking page: cached per business under its availability version.

    For a course (a service booked online as a series) each slot is a start at which every appointment of
    the course is free with one and the same staff member, and lists them as `occurrences`.

    A cached answer is reused until a write moves the version (a booking, a hold, a change of hours...) or
    its short lifetime ends; "now" moves too (minimum notice), so the key carries it rounded down to that
    lifetime. The answer carries an ETag and `Cache-Control: no-cache`: browsers and proxies may keep it
    but must ask again each time, which costs a 304 when nothing changed and shows a new booking at once.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("service", int, required=True),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="local date"),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="local date, inclusive"),
            OpenApiParameter("resource", int),
        ],
        responses=inline_serializer("PublicSlots", {"slots": serializers.ListField(child=PublicSlotOutput)}),
    )
    def get(self, request):
        serializer = AvailabilityInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = slots_cache.key(request.tenant.time_zone, data)
        if slots_cache.unchanged(key, request.headers.get("If-None-Match", "")):
            return slots_cache.not_modified(key)
        body = slots_cache.get(key)
        if body is None:
            offer = selectors.service_free_slots(
                service_id=data["service"],
                start_date=data["start"],
                end_date=data["end"],
                time_zone=request.tenant.time_zone,
                resource_id=data.get("resource"),
                online=True,
            )
            if offer is None:
                raise serializers.ValidationError({"service": [_("This service cannot be booked online.")]})
            body = self._series_starts(request, data) if offer.course else None
            if body is None:
                body = slot_json.slots_answer(offer.slots)
            slots_cache.put(key, body)
        return slots_cache.answer(key, Response(body))

    @staticmethod
    def _series_starts(request, data) -> dict | None:
        """For a course, its bookable starts (each with its occurrences); None if it is no longer one."""
        service = series_online.online_series_service(data["service"])
        if service is None:
            return None
        iso = availability.isoformat_cached()
        starts = series_online.series_free_starts(
            service=service,
            start_date=data["start"],
            end_date=data["end"],
            time_zone=request.tenant.time_zone,
            resource_id=data.get("resource"),
        )
        return {"slots": [s.as_json(iso) for s in starts]}


# --- Booking -----------------------------------------------------------------------------------------------


class BookingInput(serializers.Serializer):
    service = serializers.IntegerField()
    start = InstantField(validators=[plausible_date])
    resource = serializers.IntegerField(required=False, allow_null=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    privacy_consent = serializers.BooleanField()
    sms_consent = serializers.BooleanField(required=False, default=False)
    hold = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    form_token = serializers.CharField()
    website = serializers.CharField(required=False, allow_blank=True, default="")  # honeypot: stays empty

    def validate_email(self, value: str) -> str:
        return value.strip().lower()

    def validate_phone(self, value: str) -> str:
        region = getattr(self.context.get("tenant"), "country", "") or phones.DEFAULT_REGION
        try:
            return phones.normalise(value, region)
        except phones.PhoneError as exc:
            raise serializers.ValidationError(exc.message) from exc

    def validate(self, attrs):
        if not attrs["email"] and not attrs["phone"]:
            raise serializers.ValidationError(
                {"email": [_("Please give an e-mail address or a phone number.")]}
            )
        if attrs["sms_consent"] and not attrs["phone"]:
            raise serializers.ValidationError({"phone": [_("SMS reminders need a mobile number.")]})
        if attrs["website"]:
            raise serializers.ValidationError({"non_field_errors": [BOT_MESSAGE]})
        try:
            age = form_token_age(attrs["form_token"])
        except (signing.BadSignature, ValueError) as exc:
            raise serializers.ValidationError({"form_token": [BOT_MESSAGE]}) from exc
        if not settings.PUBLIC_FORM_MIN_SECONDS <= age <= MAX_FORM_AGE:
            raise serializers.ValidationError({"form_token": [BOT_MESSAGE]})
        if attrs["sms_consent"]:
            # Premium-rate, shared-cost, satellite … numbers and other countries: SMS pumping's targets.
            rules = self.context.get("rules") or BusinessSettings.current()
            refusal = phones.sms_refusal(attrs["phone"], rules.sms_regions)
            if refusal:
                raise serializers.ValidationError({"phone": [refusal]})
        return attrs


class OccurrenceOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField()


class BookingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField(source="service.name")
    service_id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField()
    manage_token = serializers.CharField()
    manage_url = serializers.SerializerMethodField()
    payment = payment_flow.PaymentStepField()  # null unless the booking is to be paid first
    occurrences = serializers.SerializerMethodField(
        help_text="A course: every appointment of it in time order, with its status (empty otherwise)."
    )

    def get_manage_url(self, obj) -> str:
        return primary_url(self.context["tenant"], f"/book/manage/{obj.manage_token}/")

    @extend_schema_field(OccurrenceOutput(many=True))
    def get_occurrences(self, obj) -> list[dict]:
        if not getattr(obj, "series_id", None):
            return []
        return OccurrenceOutput(series_occurrences(series=obj.series), many=True).data


# What a retry may change without being another booking: the page's anti-bot token (a reloaded page after a
# failed attempt fetches a new one) and the honeypot. Everything else the visitor entered is the booking.
_NOT_THE_BOOKING = frozenset({"form_token", "website"})


def booking_fingerprint(data: dict) -> str:
    """A hash of the booking a request asks for, from its validated fields (so `+01:00` and `Z` agree)."""
    meaning = {name: value for name, value in data.items() if name not in _NOT_THE_BOOKING}
    return hashlib.sha256(json.dumps(meaning, sort_keys=True, default=_plain).encode()).hexdigest()


def _plain(value) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()  # one instant, one text
    return str(value)


class BookingsApi(SmsRateLimitMixin, PublicApi):
    rate_scope = "public_booking"
    input_class = BookingInput  # visit_apis books several services through the same checks

    def sms_phone(self, request) -> str:
        """The number this booking would text: only with SMS consent (without it, no SMS goes out)."""
        data = request.data if hasattr(request.data, "get") else {}
        if str(data.get("sms_consent", "")).lower() not in {"true", "1", "on", "yes"}:
            return ""
        region = getattr(request.tenant, "country", "") or phones.DEFAULT_REGION
        return phones.normalise_or_empty(str(data.get("phone") or "")[: phones.MAX_INPUT], region)

    @extend_schema(
        request=BookingInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: BookingOutput},
        description=(
            "Book one appointment. For a course (a service whose `series` is set) `start` is a start the "
            "availability offers and every appointment of the course is booked with it, with one staff "
            "member, or none of them (409 naming the date that is not free); the answer lists them as "
            "`occurrences` and its manage link cancels those still to come."
        ),
    )
    def post(self, request):
        serializer = self.input_class(
            data=request.data, context={"tenant": request.tenant, "rules": BusinessSettings.current()}
        )
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()[:100]
        if not key:
            return self._book(request, serializer.validated_data)
        fingerprint = booking_fingerprint(serializer.validated_data)
        try:
            with transaction.atomic():
                # The unique key makes a concurrent retry wait here until the first attempt has answered.
                record = IdempotentRequest.objects.create(
                    key=key, fingerprint=fingerprint, status_code=0, body={}
                )
                response = self._book(request, serializer.validated_data)
                record.status_code, record.body = response.status_code, response.data
                record.save(update_fields=["status_code", "body"])
                return response
        except IntegrityError:
            record = IdempotentRequest.objects.get(key=key)
        self.sms_release()  # a replayed answer sends nothing
        if record.fingerprint != fingerprint:
            return Response(
                {"detail": _("This Idempotency-Key was already used for a different booking.")},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(record.body, status=record.status_code)

    def _book(self, request, data) -> Response:
        # A course is booked as a whole, through the same door with the same answer (its occurrences listed).
        book = (
            self._book_series
            if series_online.online_series_service(data["service"]) is not None
            else services.booking_create
        )
        try:
            appointment = book(
                booking=services.OnlineBooking(
                    service_id=data["service"],
                    start=data["start"],
                    resource_id=data.get("resource"),
                    first_name=data["first_name"].strip(),
                    last_name=data["last_name"].strip(),
                    email=data["email"],
                    phone=data["phone"],
                    note=data["note"],
                    privacy_consent=data["privacy_consent"],
                    sms_consent=data["sms_consent"],
                    hold=data["hold"],
                    form_key=visitor_key(data["form_token"]),
                ),
                time_zone=request.tenant.time_zone,
            )
        except ConflictError as exc:
            return Response({"detail": exc.message, **exc.details}, status=status.HTTP_409_CONFLICT)
        except InvalidRequest as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        if appointment.status == "held":  # to be paid first (payment_flow.py)
            refusal = payment_flow.checkout_open(appointment)
            if refusal is not None:
                return refusal
        output = BookingOutput(appointment, context={"tenant": request.tenant})
        return Response(output.data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _book_series(*, booking: services.OnlineBooking, time_zone: str):
        return series_online.series_booking_create(booking=booking, time_zone=time_zone)[0]


class HoldInput(serializers.Serializer):
    service = serializers.IntegerField()
    start = InstantField(validators=[plausible_date])
    resource = serializers.IntegerField(required=False, allow_null=True)
    form_token = serializers.CharField(max_length=200)

    def validate_form_token(self, value: str) -> str:
        try:
            age = form_token_age(value)
        except (signing.BadSignature, ValueError) as exc:
            raise serializers.ValidationError(BOT_MESSAGE) from exc
        if not 0 <= age <= MAX_FORM_AGE:
            raise serializers.ValidationError(BOT_MESSAGE)
        return value


class HoldsApi(PublicApi):
    rate_scope = "public_booking"

    @extend_schema(
        request=HoldInput,
        responses={
            201: inline_serializer(
                "Hold",
                {
                    "hold": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                    "start": serializers.DateTimeField(),
                    "end": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request):
        serializer = HoldInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            hold = services.hold_create(
                service_id=data["service"],
                start=data["start"],
                resource_id=data.get("resource"),
                time_zone=request.tenant.time_zone,
                ip_key=visitor_key(client_key(request)),
                form_key=visitor_key(data["form_token"]),
            )
        except services.HoldLimitReached as exc:
            # The page then goes on without a hold: the booking itself is still checked.
            detail = ngettext(
                "You are already holding %(count)d time. Please book it, or try again in %(minutes)d "
                "minutes.",
                "You are already holding %(count)d times. Please book one of them, or try again in "
                "%(minutes)d minutes.",
                exc.count,
            ) % {"count": exc.count, "minutes": minutes(exc.retry_after)}
            response = Response(
                {"detail": detail, "code": "hold_limit"}, status=status.HTTP_429_TOO_MANY_REQUESTS
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        return Response(
            {
                "hold": hold.manage_token,
                "expires_at": serializers.DateTimeField().to_representation(hold.hold_expires_at),
                "start": serializers.DateTimeField().to_representation(hold.start),
                "end": serializers.DateTimeField().to_representation(hold.end),
            },
            status=status.HTTP_201_CREATED,
        )


class HoldApi(PublicApi):
    rate_scope = "public_booking"

    @extend_schema(responses={204: None})
    def delete(self, request, token):
        services.hold_release(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ManagedBookingOutput(BookingOutput):
    changeable = serializers.BooleanField()
    phone = serializers.CharField()


class ManagedBookingApi(PublicApi):
    @extend_schema(responses=ManagedBookingOutput)
    def get(self, request, token):
        appointment = _by_token(token)
        rules = BusinessSettings.current()
        data = BookingOutput(appointment, context={"tenant": request.tenant}).data
        data["changeable"] = services.self_service_open(appointment, rules)
        data["phone"] = request.tenant.phone
        return Response(data)


class CancelBookingApi(SmsRateLimitMixin, PublicApi):
    rate_scope = "public_booking"
    open_while_unconfirmed = True  # a customer can always cancel

    def sms_phone(self, request) -> str:
        return _customer_phone(self.kwargs.get("token", ""))

    @extend_schema(request=None, responses=BookingOutput)
    def post(self, request, token):
        _by_token(token)
        appointment = services.booking_cancel(token=token)
        return Response(BookingOutput(appointment, context={"tenant": request.tenant}).data)


class RescheduleInput(serializers.Serializer):
    start = InstantField(validators=[plausible_date])


class RescheduleBookingApi(SmsRateLimitMixin, PublicApi):
    rate_scope = "public_booking"

    def sms_phone(self, request) -> str:
        return _customer_phone(self.kwargs.get("token", ""))

    @extend_schema(request=RescheduleInput, responses=BookingOutput)
    def post(self, request, token):
        _by_token(token)
        serializer = RescheduleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.booking_reschedule(
            token=token, start=serializer.validated_data["start"], time_zone=request.tenant.time_zone
        )
        return Response(BookingOutput(appointment, context={"tenant": request.tenant}).data)


def _customer_phone(token: str) -> str:
    """The phone number a change of this booking texts (its customer's, with SMS consent), for the limits."""
    try:
        customer = services.booking_by_token(token).customer
    except LookupError:
        return ""
    if customer is None or not customer.phone:
        return ""
    consents = crm_selectors.consents_latest([customer.pk]).get(customer.pk, {})
    return customer.phone if crm_selectors.consent_allows(consents, "sms") else ""


def _by_token(token: str):
    try:
        return services.booking_by_token(token)
    except LookupError as exc:
        raise NotFound(_("This booking link is not valid.")) from exc
