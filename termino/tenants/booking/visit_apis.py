"""Anonymous booking API of visits (`/api/public/v1/visits/`): when several services can be had back to back,
and booking them as one. Limits, bot checks and answers as for one service (apis.py)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from termino.shared.errors import ConflictError, InvalidRequest
from termino.tenants.scheduling.visit_apis import (
    MAX_SERVICES,
    VISIT_AVAILABILITY_PARAMETERS,
    VisitAvailabilityInput,
    visit_slot_output,
    visit_slots,
)

from . import slots_cache, visits
from .apis import BookingInput, BookingOutput, BookingsApi, PublicApi, visitor_key


class PublicVisitAvailabilityApi(PublicApi):
    """Free starts of a visit, cached like the slots of one service under the availability version."""

    @extend_schema(
        parameters=VISIT_AVAILABILITY_PARAMETERS,
        responses=inline_serializer(
            "PublicVisitSlots", {"slots": serializers.ListField(child=visit_slot_output())}
        ),
    )
    def get(self, request):
        serializer = VisitAvailabilityInput(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        question = {
            "service": "visit:" + ",".join(map(str, data["services"])),
            "start": data["start"],
            "end": data["end"],
            "resource": ",".join("" if pk is None else str(pk) for pk in data["staff"]),
        }
        key = slots_cache.key(request.tenant.time_zone, question)
        if slots_cache.unchanged(key, request.headers.get("If-None-Match", "")):
            return slots_cache.not_modified(key)
        body = slots_cache.get(key)
        if body is None:
            body = visit_slots(data, request.tenant.time_zone, online=True)
            slots_cache.put(key, body)
        return slots_cache.answer(key, Response(body))


class VisitPartInput(serializers.Serializer):
    class Meta:
        ref_name = "PublicVisitPart"  # the staff API has its own

    service = serializers.IntegerField()
    resource = serializers.IntegerField(required=False, allow_null=True, help_text="staff member, or none")


class VisitBookingInput(BookingInput):
    services = VisitPartInput(many=True)
    service = None  # the services come as a list
    resource = None
    hold = None  # a visit is booked without a hold

    def validate_services(self, value):
        if not 2 <= len(value) <= MAX_SERVICES:
            raise serializers.ValidationError(
                _("A visit has between 2 and %(count)d services.") % {"count": MAX_SERVICES}
            )
        return value


VisitPartOutput = inline_serializer(
    "PublicVisitPart",
    {
        "service": serializers.CharField(),
        "service_id": serializers.IntegerField(),
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
    },
    many=True,
)


class VisitBookingOutput(BookingOutput):
    parts = serializers.SerializerMethodField()

    @extend_schema_field(VisitPartOutput)
    def get_parts(self, obj) -> list[dict]:
        return self.context["parts"]


class VisitBookingsApi(BookingsApi):
    @extend_schema(
        request=VisitBookingInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: VisitBookingOutput},
    )
    def post(self, request):
        return super().post(request)

    input_class = VisitBookingInput
    sms_phone = BookingsApi.sms_phone

    def _book(self, request, data) -> Response:
        try:
            appointments = visits.visit_booking_create(
                visit=visits.OnlineVisit(
                    service_ids=tuple(p["service"] for p in data["services"]),
                    staff_ids=tuple(p.get("resource") for p in data["services"]),
                    start=data["start"],
                    first_name=data["first_name"].strip(),
                    last_name=data["last_name"].strip(),
                    email=data["email"],
                    phone=data["phone"],
                    note=data["note"],
                    privacy_consent=data["privacy_consent"],
                    sms_consent=data["sms_consent"],
                    form_key=visitor_key(data["form_token"]),
                ),
                time_zone=request.tenant.time_zone,
            )
        except ConflictError as exc:
            return Response({"detail": exc.message, **exc.details}, status=status.HTTP_409_CONFLICT)
        except InvalidRequest as exc:
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        parts = [
            {
                "service": a.service.name,
                "service_id": a.service_id,
                "start": serializers.DateTimeField().to_representation(a.start),
                "end": serializers.DateTimeField().to_representation(a.end),
            }
            for a in appointments
        ]
        lead = appointments[0]
        output = VisitBookingOutput(lead, context={"tenant": request.tenant, "parts": parts})
        body = {**output.data, "end": parts[-1]["end"]}
        return Response(body, status=status.HTTP_201_CREATED)
