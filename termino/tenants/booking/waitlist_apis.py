"""The public API of the waitlist (`/api/public/v1/waitlist/`): join, leave, and answer an offer.

The same protections as booking: per-IP request limits, a signed form token and a honeypot to join, the SMS
limits on requests that may text (joining with SMS consent, confirming an offer). An offer's link is a
secret of 256 bits that shows and books only that offer; any other token is a 404.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm import selectors as crm_selectors
from termino.tenants.scheduling.apis import plausible_date
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import DayPart, OfferStatus

from .apis import BookingInput, BookingOutput, BookingsApi, PublicApi
from .services import paid_online
from .throttles import SmsRateLimitMixin
from .waitlist_services import WaitlistJoin, waitlist_join


class WaitlistJoinInput(BookingInput):
    start = None  # no time: none suited
    hold = None
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    date_from = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[plausible_date]
    )
    date_to = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[plausible_date]
    )
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), max_length=7, required=False, default=list
    )
    day_parts = serializers.ListField(
        child=serializers.ChoiceField(choices=DayPart.choices), max_length=3, required=False, default=list
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["date_from"] and attrs["date_to"] and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The last day must not be before the first.")]})
        return attrs


class WaitlistJoinOutput(serializers.Serializer):
    status = serializers.CharField()
    service = serializers.CharField()
    leave_token = serializers.CharField()


class WaitlistJoinApi(SmsRateLimitMixin, PublicApi):
    rate_scope = "public_booking"
    sms_phone = BookingsApi.sms_phone  # joining with SMS consent may text offers later

    @extend_schema(request=WaitlistJoinInput, responses={201: WaitlistJoinOutput})
    def post(self, request):
        serializer = WaitlistJoinInput(
            data=request.data, context={"tenant": request.tenant, "rules": BusinessSettings.current()}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            entry, token = waitlist_join(
                join=WaitlistJoin(
                    wish=waitlist.Wish(
                        service_id=data["service"],
                        resource_id=data.get("resource"),
                        date_from=data["date_from"],
                        date_to=data["date_to"],
                        weekdays=tuple(data["weekdays"]),
                        day_parts=tuple(data["day_parts"]),
                        note=data["note"],
                    ),
                    first_name=data["first_name"].strip(),
                    last_name=data["last_name"].strip(),
                    email=data["email"],
                    phone=data["phone"],
                    privacy_consent=data["privacy_consent"],
                    sms_consent=data["sms_consent"],
                )
            )
        except InvalidRequest as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        output = {"status": entry.status, "service": entry.service.name, "leave_token": token}
        return Response(WaitlistJoinOutput(output).data, status=status.HTTP_201_CREATED)


class WaitlistLeaveApi(PublicApi):
    rate_scope = "public_booking"
    open_while_unconfirmed = True  # leaving is always possible

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, token):
        try:
            waitlist.entry_leave(token=token)
        except LookupError as exc:
            raise NotFound(_("This waitlist link is not valid.")) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class OfferOutput(serializers.Serializer):
    class Meta:
        ref_name = "PublicWaitlistOffer"  # the staff API has its own

    status = serializers.CharField()
    service = serializers.CharField(source="entry.service.name")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    staff = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    first_name = serializers.SerializerMethodField()

    def get_staff(self, obj) -> str:
        return obj.resource.name if obj.resource else ""

    def get_first_name(self, obj) -> str:
        """Whose offer it is (the first name only): the link was sent to them."""
        return obj.entry.customer.first_name if obj.entry.customer else ""


def _offer(token: str):
    try:
        return waitlist.offer_by_token(token)
    except LookupError as exc:
        raise NotFound(_("This offer link is not valid.")) from exc


class OfferApi(PublicApi):
    @extend_schema(responses=OfferOutput)
    def get(self, request, token):
        return Response(OfferOutput(_offer(token)).data)


def _offer_phone(token: str) -> str:
    """The number confirming this offer would text (its customer's, with SMS consent), for the SMS limits."""
    try:
        customer = waitlist.offer_by_token(token).entry.customer
    except LookupError:
        return ""
    consents = crm_selectors.consents_latest([customer.pk]).get(customer.pk, {})
    return customer.phone if customer.phone and crm_selectors.consent_allows(consents, "sms") else ""


class OfferAcceptApi(SmsRateLimitMixin, PublicApi):
    rate_scope = "public_booking"

    def sms_phone(self, request) -> str:
        return _offer_phone(self.kwargs.get("token", ""))

    @extend_schema(request=None, responses={201: BookingOutput})
    def post(self, request, token):
        offer = _offer(token)
        if offer.status == OfferStatus.OPEN and paid_online(
            service=offer.entry.service, customer=offer.entry.customer
        ):
            # The service asks for a payment now (its rule changed, or this customer must pay a deposit):
            # the waitlist cannot take it, so the time goes back to the booking page.
            try:
                waitlist.offer_decline(token=token)
            except ConflictError as exc:
                return Response({"detail": exc.message, **exc.details}, status=status.HTTP_409_CONFLICT)
            message = _(
                "This time is paid online when it is booked, which the waitlist cannot do. It is free again "
                "on the booking page, where you can book and pay for it."
            )
            return Response({"detail": str(message)}, status=status.HTTP_409_CONFLICT)
        try:
            appointment = waitlist.offer_accept(token=token)
        except ConflictError as exc:
            return Response({"detail": exc.message, **exc.details}, status=status.HTTP_409_CONFLICT)
        output = BookingOutput(appointment, context={"tenant": request.tenant}).data
        return Response(output, status=status.HTTP_201_CREATED)


class OfferDeclineApi(PublicApi):
    rate_scope = "public_booking"
    open_while_unconfirmed = True

    @extend_schema(request=None, responses=OfferOutput)
    def post(self, request, token):
        _offer(token)
        try:
            waitlist.offer_decline(token=token)
        except ConflictError as exc:
            return Response({"detail": exc.message, **exc.details}, status=status.HTTP_409_CONFLICT)
        return Response(OfferOutput(waitlist.offer_by_token(token)).data)
