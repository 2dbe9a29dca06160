"""Staff REST API of visits (`/api/v1/visits/`): several services back to back for one customer.

Thin like apis.py: a visit is booked through `lifecycle.visit_book`, read as its appointments, and cancelled
as a whole through `lifecycle.visit_cancel`; each appointment stays reachable (move, no-show, history) under
`/api/v1/appointments/`.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.shared.json_text import JSONText
from termino.shared.timefields import InstantField
from termino.tenants.business.roles import own_resource_ids
from termino.tenants.crm.models import Customer

from . import lifecycle, selectors, services, slot_json
from .apis import AppointmentCancelInput, AppointmentOutput, DateRangeInput, _valid, plausible_date
from .events import Actor
from .models import (
    VISIT_MAX_SERVICES,
    Allocation,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Resource,
    ResourceKind,
    Visit,
)

MAX_SERVICES = VISIT_MAX_SERVICES


class IdListField(serializers.CharField):
    """ "3,5" as [3, 5]; in a list of staff choices "any" (or nothing) between the commas is None."""

    def __init__(self, *, allow_any: bool = False, **kwargs):
        self.allow_any = allow_any
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        values = []
        for part in text.split(","):
            part = part.strip()
            if self.allow_any and part in ("", "any"):
                values.append(None)
            elif part.isdigit() and len(part) < 10:
                values.append(int(part))
            else:
                raise serializers.ValidationError(_("Give ids separated by commas, e.g. 3,5."))
        if not 1 <= len(values) <= MAX_SERVICES:
            raise serializers.ValidationError(
                _("A visit has between 1 and %(count)d services.") % {"count": MAX_SERVICES}
            )
        return values


class VisitAvailabilityInput(DateRangeInput):
    services = IdListField()
    staff = IdListField(allow_any=True, required=False)
    start = serializers.DateField(validators=[plausible_date])
    end = serializers.DateField(validators=[plausible_date])

    def validate(self, attrs):
        attrs = super().validate(attrs)
        staff = attrs.get("staff") or [None] * len(attrs["services"])
        if len(staff) != len(attrs["services"]):
            raise serializers.ValidationError({"staff": [_("Give one staff choice per service.")]})
        attrs["staff"] = staff
        return attrs


VISIT_AVAILABILITY_PARAMETERS = [
    OpenApiParameter("services", str, required=True, description="service ids in order, e.g. 3,5"),
    OpenApiParameter("staff", str, description='per service a staff id or "any", e.g. any,7'),
    OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="local date"),
    OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="local date, inclusive"),
]


class VisitSlotPart(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    resources = serializers.ListField(child=serializers.IntegerField())


class VisitSlot(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    parts = VisitSlotPart(many=True)


def visit_slot_output():
    """The schema of one visit slot: a new field each time (a field belongs to one parent), one class, so
    the staff and the public API share one OpenAPI component."""
    return VisitSlot()


def visit_slots(data: dict, time_zone: str, *, online: bool) -> JSONText:
    """The answer `{"slots": [...]}` to a validated visit question."""
    slots = selectors.visit_free_slots(
        service_ids=data["services"],
        resource_ids=data["staff"],
        start_date=data["start"],
        end_date=data["end"],
        time_zone=time_zone,
        online=online,
    )
    if slots is None:
        message = (
            _("One of these services cannot be booked online.")
            if online
            else _("One of these services is not active or is a group service.")
        )
        raise serializers.ValidationError({"services": [message]})
    return slot_json.visit_slots_answer(slots)


class VisitAvailabilityApi(APIView):
    @extend_schema(
        parameters=VISIT_AVAILABILITY_PARAMETERS,
        responses=inline_serializer(
            "VisitAvailability", {"slots": serializers.ListField(child=visit_slot_output())}
        ),
    )
    def get(self, request):
        """Starts of a visit: the services back to back, each with the staff members (and rooms) free then."""
        data = _valid(VisitAvailabilityInput, request.query_params)
        return Response(visit_slots(data, request.tenant.time_zone, online=False))


class VisitPartInput(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=services.Service.objects.all())
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF), required=False, allow_null=True
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.ROOM), required=False, allow_null=True
    )


class VisitCreateInput(serializers.Serializer):
    services = VisitPartInput(many=True)
    start = InstantField(validators=[plausible_date])
    customer = serializers.PrimaryKeyRelatedField(  # restricted processing (Art. 18 GDPR): not bookable
        queryset=Customer.objects.filter(processing_restricted=False), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[AppointmentStatus.CONFIRMED, AppointmentStatus.REQUESTED],
        default=AppointmentStatus.CONFIRMED,
    )

    def validate_services(self, value):
        if not 2 <= len(value) <= MAX_SERVICES:
            raise serializers.ValidationError(
                _("A visit has between 2 and %(count)d services.") % {"count": MAX_SERVICES}
            )
        return value


class VisitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    appointments = AppointmentOutput(many=True)


def _visit_answer(visit_id: int, status: int = 200) -> Response:
    appointments = list(
        Appointment.objects.filter(visit_id=visit_id)
        .prefetch_related(Prefetch("allocations", queryset=Allocation.objects.order_by("resource_id")))
        .order_by("start", "pk")
    )
    body = {
        "id": visit_id,
        "start": appointments[0].start,
        "end": max(a.end for a in appointments),
        "appointments": appointments,
    }
    return Response(VisitOutput(body).data, status=status)


def _actor(request) -> Actor:
    return Actor(
        source=AppointmentSource.API if request.auth else AppointmentSource.BACKOFFICE, user=request.user
    )


class VisitsApi(APIView):
    @extend_schema(request=VisitCreateInput, responses={201: VisitOutput})
    def post(self, request):
        """Book several services back to back from `start` (as the visit availability lays them out)."""
        data = _valid(VisitCreateInput, request.data)
        parts = data["services"]
        starts = services.visit_starts([p["service"] for p in parts], data["start"])
        appointments = lifecycle.visit_book(
            actor=_actor(request),
            bookings=[
                services.Booking(service=p["service"], start=start, staff=p.get("staff"), room=p.get("room"))
                for p, start in zip(parts, starts, strict=True)
            ],
            customer=data.get("customer"),
            status=data["status"],
            notes=data["notes"],
        )
        return _visit_answer(appointments[0].visit_id, status=201)


def _visit_of(request, pk: int) -> Visit:
    """The visit, if the user may see it: a staff member only one touching their own column (else 404)."""
    visits = Visit.objects.filter(appointments__isnull=False)
    own = own_resource_ids(request.user)
    if own is not None:
        visits = visits.filter(appointments__allocations__resource_id__in=own)
    return get_object_or_404(visits.distinct(), pk=pk)


class VisitApi(APIView):
    @extend_schema(responses=VisitOutput)
    def get(self, request, pk: int):
        return _visit_answer(_visit_of(request, pk).pk)


class VisitCancelApi(APIView):
    @extend_schema(request=AppointmentCancelInput, responses=VisitOutput)
    def post(self, request, pk: int):
        """Cancel every appointment of the visit still to come."""
        visit = _visit_of(request, pk)
        data = _valid(AppointmentCancelInput, request.data)
        lead = Appointment.objects.filter(visit=visit).order_by("start", "pk").first()
        lifecycle.visit_cancel(
            actor=_actor(request), appointment=lead, reason=data["reason"], notify=data["notify"]
        )
        return _visit_answer(visit.pk)
