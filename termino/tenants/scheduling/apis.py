"""Staff REST API of the scheduling core (`/api/v1/`). Thin: validation here, work in services/selectors."""

import re
from datetime import date, datetime, timedelta

import holidays
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.shared import timeutils
from termino.shared.money import ApiPriceField
from termino.shared.timefields import InstantField
from termino.tenants.business.roles import is_manager, own_resource_ids
from termino.tenants.crm.models import Customer

from . import lifecycle, selectors, services, slot_json
from .availability import END_OF_DAY, is_end_of_day
from .events import Actor
from .history import appointment_history
from .models import (
    ONLINE_SERIES_MAX_INTERVAL_WEEKS,
    SERIES_MAX_OCCURRENCES,
    Appointment,
    AppointmentChange,
    AppointmentSource,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Service,
    WeeklyHours,
)

MAX_RANGE_DAYS = 62


def plausible_date(moment: date | datetime) -> date | datetime:
    # Far-off years are typing mistakes; before 1900 time zones had odd offsets (Berlin: +00:53:28) that
    # no RFC 3339 client can read back, and near year 1 or 9999 date arithmetic overflows.
    if not 2000 <= moment.year <= 2100:
        raise serializers.ValidationError(_("Please give a date between the years 2000 and 2100."))
    return moment


# --- Roles -----------------------------------------------------------------------------------------------


class ManagersWrite(BasePermission):
    """Everyone logged in may read the reference data; owners and managers change it."""

    message = _("Only the owner or a manager can change this.")

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or is_manager(request.user)


# --- Reference data: plain CRUD --------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    resources = serializers.PrimaryKeyRelatedField(many=True, queryset=Resource.objects.all(), required=False)
    price = ApiPriceField(required=False)  # "39.50": a machine decimal, never a locale's "39,50"

    class Meta:
        model = Service
        fields = [
            "id", "name", "description", "duration_minutes", "price", "buffer_before_minutes",
            "buffer_after_minutes", "min_notice_minutes", "horizon_days", "slot_step_minutes", "capacity",
            "requires_room", "colour", "bookable_online", "active", "resources",
            "processing_after_minutes", "processing_minutes", "online_series_count",
            "online_series_interval_weeks",
        ]  # fmt: skip
        # The table's check constraints, checked here so that breaking one is a 400, not a 500.
        extra_kwargs = {
            "duration_minutes": {"min_value": 1},
            "slot_step_minutes": {"min_value": 1},
            "horizon_days": {"min_value": 1},
            "capacity": {"min_value": 1},
            "online_series_count": {
                "max_value": SERIES_MAX_OCCURRENCES,
                "help_text": "Booked online as a course of this many appointments (0: single bookings).",
            },
            "online_series_interval_weeks": {
                "min_value": 1,
                "max_value": ONLINE_SERIES_MAX_INTERVAL_WEEKS,
                "help_text": "A course's appointments are this many weeks apart.",
            },
            "colour": {
                "validators": [RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Choose a colour such as #3b82f6."))]
            },
        }

    def validate(self, attrs):
        def value(name):
            return attrs.get(name, getattr(self.instance, name, Service._meta.get_field(name).get_default()))

        problem = services.processing_problem(
            duration=value("duration_minutes"),
            after=value("processing_after_minutes"),
            minutes=value("processing_minutes"),
            capacity=value("capacity"),
        )
        if problem:
            raise serializers.ValidationError({"processing_minutes": [problem]})
        course_problem = services.online_series_problem(attrs.get("online_series_count"))
        if course_problem:
            raise serializers.ValidationError({"online_series_count": [course_problem]})
        return attrs


class ResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "kind", "name", "user", "services", "active"]
        extra_kwargs = {"services": {"required": False}}

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        user = attrs["user"] if "user" in attrs else getattr(self.instance, "user", None)
        if user is not None and kind != ResourceKind.STAFF:
            raise serializers.ValidationError({"user": _("Only a staff member can have a login.")})
        return attrs


# "24:00", "24:00:00" or "24:00:00.000": the end of the day, as ISO 8601 and PostgreSQL write it.
END_OF_DAY_TEXT = re.compile(r"24:00(:00(\.0{1,6})?)?")


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$", "example": "09:00"}
)
class WallClockTimeField(serializers.TimeField):
    """A local wall-clock time ("09:00:00"): no UTC offset, so not JSON Schema's `format: time`."""

    def to_internal_value(self, value):
        if isinstance(value, str) and END_OF_DAY_TEXT.fullmatch(value.strip()):
            raise serializers.ValidationError(_("24:00 can only end an interval; a day starts at 00:00."))
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^(([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?|24:00(:00(\.0{1,6})?)?)$",
        "example": "18:00",
        "description": "End of the interval; 24:00 is midnight at the end of the day (so is 00:00).",
    }
)
class WallClockEndField(serializers.TimeField):
    """The end of an interval of weekly hours: a wall-clock time, or 24:00 for the end of the day.

    Stored as 00:00 (availability.END_OF_DAY); answered as "24:00:00", in the shape of every other time.
    """

    def to_internal_value(self, value):
        if isinstance(value, str) and END_OF_DAY_TEXT.fullmatch(value.strip()):
            return END_OF_DAY
        return super().to_internal_value(value)

    def to_representation(self, value):
        if value is not None and is_end_of_day(value):
            return "24:00:00"
        return super().to_representation(value)


class WeeklyHoursSerializer(serializers.ModelSerializer):
    start = WallClockTimeField()
    end = WallClockEndField()

    class Meta:
        model = WeeklyHours
        fields = ["id", "resource", "weekday", "start", "end"]

    def validate_weekday(self, value):
        if value > 6:
            raise serializers.ValidationError(_("Use 0 (Monday) to 6 (Sunday)."))
        return value

    def validate(self, attrs):
        weekday = attrs.get("weekday", getattr(self.instance, "weekday", None))
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        if weekday is not None and start is not None and end is not None:
            problem = services.weekly_interval_problem(weekday=weekday, start=start, end=end)
            if problem:
                raise serializers.ValidationError({"end": problem})
        return attrs


class ClosureSerializer(serializers.ModelSerializer):
    start = InstantField()
    end = InstantField()

    class Meta:
        model = Closure
        fields = ["id", "resource", "start", "end", "reason"]

    def validate_start(self, value):
        return plausible_date(value)

    def validate_end(self, value):
        return plausible_date(value)

    def validate(self, attrs):
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        if start and end and start >= end:
            raise serializers.ValidationError({"end": _("The end must be after the start.")})
        return attrs


class ServiceViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated, ManagersWrite]
    serializer_class = ServiceSerializer

    def get_queryset(self):
        queryset = Service.objects.prefetch_related("resources")
        if "active" in self.request.query_params:
            queryset = queryset.filter(active=self.request.query_params["active"].lower() in {"1", "true"})
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.service_create(resources=data.pop("resources", ()), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        services.service_update(service=serializer.instance, resources=data.pop("resources", None), **data)

    def perform_destroy(self, instance):
        services.service_delete(service=instance)  # one with appointments is refused (400)


class ResourceViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated, ManagersWrite]
    serializer_class = ResourceSerializer

    def get_queryset(self):
        queryset = Resource.objects.prefetch_related("services")
        kind = self.request.query_params.get("kind")
        return queryset.filter(kind=kind) if kind in ResourceKind.values else queryset

    def perform_create(self, serializer):
        serializer.instance = services.resource_create(**serializer.validated_data)

    def perform_update(self, serializer):
        services.resource_update(resource=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.resource_delete(resource=instance)  # one with appointments is refused (400)


class WeeklyHoursViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated, ManagersWrite]
    serializer_class = WeeklyHoursSerializer

    def get_queryset(self):
        queryset = WeeklyHours.objects.all()
        resource = self.request.query_params.get("resource")
        if resource == "business":
            return queryset.filter(resource__isnull=True)
        return queryset.filter(resource_id=resource) if resource and resource.isdigit() else queryset

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.weekly_hours_create(
            resource=data.get("resource"), weekday=data["weekday"], start=data["start"], end=data["end"]
        )

    def perform_update(self, serializer):
        serializer.instance = services.weekly_hours_update(
            hours=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.weekly_hours_delete(hours=instance)


class HolidayImportInput(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=sorted(holidays.Germany.subdivisions), help_text="German federal state, e.g. BY, BE, NW"
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ClosureViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated, ManagersWrite]
    serializer_class = ClosureSerializer

    def get_queryset(self):
        return Closure.objects.all()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.closure_create(
            resource=data.get("resource"), start=data["start"], end=data["end"], reason=data.get("reason", "")
        )

    def perform_update(self, serializer):
        serializer.instance = services.closure_update(
            closure=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.closure_delete(closure=instance)

    @extend_schema(
        request=HolidayImportInput,
        responses=inline_serializer("Imported", {"created": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="import-holidays")
    def import_holidays(self, request):
        """Close the business on the public holidays of a federal state for a year (idempotent)."""
        data = _valid(HolidayImportInput, request.data)
        created = services.holidays_import(
            state=data["state"], years=[data["year"]], time_zone=request.tenant.time_zone
        )
        return Response({"created": created})


# --- Appointments ----------------------------------------------------------------------------------------


class AppointmentOutput(serializers.ModelSerializer):
    resources = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id", "service", "customer", "start", "end", "status", "source", "notes", "price",
            "cancel_reason", "resources", "created_at", "updated_at",
        ]  # fmt: skip

    def get_resources(self, obj) -> list[int]:
        return sorted({a.resource_id for a in obj.allocations.all()})


class StoredInstantField(serializers.DateTimeField):
    """An instant kept as an ISO string in JSON, shown like every other time: in the business's zone."""

    def to_representation(self, value):
        return super().to_representation(datetime.fromisoformat(value))


class AppointmentStateOutput(serializers.Serializer):
    start = StoredInstantField()
    end = StoredInstantField()
    status = serializers.CharField()
    resources = serializers.ListField(child=serializers.IntegerField())


class AppointmentChangeOutput(serializers.ModelSerializer):
    changed_by = serializers.SerializerMethodField()
    before = AppointmentStateOutput(allow_null=True)
    after = AppointmentStateOutput()

    class Meta:
        model = AppointmentChange
        fields = ["at", "kind", "source", "changed_by", "before", "after", "reason"]

    def get_changed_by(self, obj) -> str | None:
        return obj.changed_by.get_username() if obj.changed_by else None


class AppointmentCreateInput(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    start = InstantField(validators=[plausible_date])
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.ROOM), required=False
    )
    customer = serializers.PrimaryKeyRelatedField(  # restricted processing (Art. 18 GDPR): not bookable
        queryset=Customer.objects.filter(processing_restricted=False), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[AppointmentStatus.CONFIRMED, AppointmentStatus.REQUESTED],
        default=AppointmentStatus.CONFIRMED,
    )


class AppointmentMoveInput(serializers.Serializer):
    start = InstantField(validators=[plausible_date])
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF), required=False
    )


class AppointmentCancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    notify = serializers.BooleanField(
        required=False, default=True, help_text="tell the customer (by the channels they agreed to)"
    )


class AppointmentResizeInput(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=5, max_value=24 * 60)


class DateRangeInput(serializers.Serializer):
    start = serializers.DateField(required=False, validators=[plausible_date])
    end = serializers.DateField(required=False, validators=[plausible_date])

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end:
            if end < start:
                raise serializers.ValidationError(
                    {"end": _("The end date must not be before the start date.")}
                )
            if (end - start).days > MAX_RANGE_DAYS:
                raise serializers.ValidationError(
                    {"end": _("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS}}
                )
        return attrs


class AppointmentFilterInput(DateRangeInput):
    resource = serializers.IntegerField(required=False)
    customer = serializers.IntegerField(required=False)
    status = serializers.MultipleChoiceField(choices=AppointmentStatus.choices, required=False)


class AppointmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and read appointments; create, move and change status through the scheduling services."""

    serializer_class = AppointmentOutput

    def get_queryset(self):
        queryset = Appointment.objects.prefetch_related("allocations").order_by("start", "id")
        own = own_resource_ids(self.request.user)
        if own is not None:  # a staff member works only in their own column
            queryset = queryset.filter(allocations__resource_id__in=own).distinct()
        if self.action != "list":
            return queryset
        filters = AppointmentFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        zone = timezone.get_current_timezone()
        if "start" in data:
            queryset = queryset.filter(end__gt=timeutils.local_midnight(data["start"], zone))
        if "end" in data:
            day_after = data["end"] + timedelta(days=1)
            queryset = queryset.filter(start__lt=timeutils.local_midnight(day_after, zone))
        if "resource" in data:
            queryset = queryset.filter(allocations__resource_id=data["resource"])
        if "customer" in data:
            queryset = queryset.filter(customer_id=data["customer"])
        if data.get("status"):
            queryset = queryset.filter(status__in=data["status"])
        return queryset

    def _actor(self) -> Actor:
        request = self.request
        return Actor(
            source=AppointmentSource.API if request.auth else AppointmentSource.BACKOFFICE, user=request.user
        )

    def _answer(self, appointment, status: int = 200) -> Response:
        return Response(AppointmentOutput(_fresh(appointment)).data, status=status)

    @extend_schema(request=AppointmentCreateInput, responses={201: AppointmentOutput})
    def create(self, request):
        data = _valid(AppointmentCreateInput, request.data)
        appointment = lifecycle.appointment_book(
            actor=self._actor(),
            booking=services.Booking(
                service=data["service"], start=data["start"], staff=data.get("staff"), room=data.get("room")
            ),
            customer=data.get("customer"),
            status=data["status"],
            notes=data["notes"],
        )
        return self._answer(appointment, status=201)

    @extend_schema(responses=AppointmentChangeOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every change of the appointment, oldest first: what, when, by whom, through which door."""
        changes = appointment_history(appointment=self.get_object())
        return Response(AppointmentChangeOutput(changes, many=True).data)

    @extend_schema(request=AppointmentMoveInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        data = _valid(AppointmentMoveInput, request.data)
        appointment = lifecycle.appointment_move(
            actor=self._actor(), appointment=self.get_object(), start=data["start"], staff=data.get("staff")
        )
        return self._answer(appointment)

    @extend_schema(request=AppointmentResizeInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def resize(self, request, pk=None):
        """Give the appointment a new length in minutes (its start stays)."""
        data = _valid(AppointmentResizeInput, request.data)
        appointment = lifecycle.appointment_resize(
            actor=self._actor(), appointment=self.get_object(), minutes=data["minutes"]
        )
        return self._answer(appointment)

    @extend_schema(request=AppointmentCancelInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = _valid(AppointmentCancelInput, request.data)
        appointment = lifecycle.appointment_cancel(
            actor=self._actor(), appointment=self.get_object(), reason=data["reason"], notify=data["notify"]
        )
        return self._answer(appointment)

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Approve a requested appointment (the customer is told), or take back a no-show/completed mark."""
        return self._answer(lifecycle.appointment_confirm(actor=self._actor(), appointment=self.get_object()))

    @extend_schema(request=AppointmentCancelInput, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Refuse a requested appointment; the customer is told, with the reason given."""
        data = _valid(AppointmentCancelInput, request.data)
        appointment = lifecycle.appointment_decline(
            actor=self._actor(), appointment=self.get_object(), reason=data["reason"]
        )
        return self._answer(appointment)

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._answer(lifecycle.appointment_no_show(actor=self._actor(), appointment=self.get_object()))

    @extend_schema(request=None, responses=AppointmentOutput)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._answer(
            lifecycle.appointment_complete(actor=self._actor(), appointment=self.get_object())
        )


# --- Availability ----------------------------------------------------------------------------------------


class AvailabilityInput(DateRangeInput):
    service = serializers.IntegerField()
    start = serializers.DateField(validators=[plausible_date])
    end = serializers.DateField(validators=[plausible_date])
    resource = serializers.IntegerField(required=False)


SlotOutput = inline_serializer(
    "Slot",
    {
        "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(),
        "resources": serializers.ListField(child=serializers.IntegerField()),
        "seats_left": serializers.IntegerField(help_text="free places in a group session; 1 otherwise"),
    },
)


class AvailabilityApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("service", int, required=True),
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="local date"),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="local date, inclusive"),
            OpenApiParameter("resource", int, description="only this staff member or room"),
        ],
        responses=inline_serializer("Availability", {"slots": serializers.ListField(child=SlotOutput)}),
    )
    def get(self, request):
        data = _valid(AvailabilityInput, request.query_params)
        resource = data.get("resource")
        offer = selectors.service_free_slots(
            service_id=data["service"],
            start_date=data["start"],
            end_date=data["end"],
            time_zone=request.tenant.time_zone,
            resource_id=resource,
        )
        if offer is None:
            raise serializers.ValidationError({"service": [_("There is no active service with this id.")]})
        if resource is not None and resource not in offer.resource_ids:
            raise serializers.ValidationError({"resource": [_("This resource does not offer the service.")]})
        return Response(slot_json.slots_answer(offer.slots, seats=True))


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _fresh(appointment: Appointment) -> Appointment:
    return get_object_or_404(Appointment.objects.prefetch_related("allocations"), pk=appointment.pk)
