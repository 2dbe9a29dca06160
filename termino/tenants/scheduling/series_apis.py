"""Staff REST API of appointment series (`/api/v1/series/`): preview a rule's dates, book, read, and move
or cancel one occurrence or this and all following ones. Thin: the work is in `series` and
`series_selectors`."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from termino.shared.timefields import InstantField
from termino.tenants.crm.models import Customer

from . import series
from .apis import AppointmentOutput, WallClockTimeField, _valid, plausible_date
from .events import Actor
from .models import (
    SERIES_MAX_OCCURRENCES,
    Appointment,
    AppointmentSource,
    Resource,
    ResourceKind,
    Series,
    SeriesFrequency,
    Service,
)
from .recurrence import Recurrence
from .series_selectors import occurrences_check, series_list, series_needs


class RuleInput(serializers.Serializer):
    """What repeats: the service with whom, and the rule (local wall-clock time in the business's zone)."""

    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(active=True))
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF, active=True),
        required=False,
        allow_null=True,
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.ROOM, active=True), required=False, allow_null=True
    )
    first_date = serializers.DateField(validators=[plausible_date], help_text="local date of the first one")
    time = WallClockTimeField(help_text="local wall-clock time of every occurrence")
    frequency = serializers.ChoiceField(choices=SeriesFrequency.choices, default=SeriesFrequency.WEEKLY)
    interval = serializers.IntegerField(
        min_value=1, max_value=52, default=1, help_text="every N days or weeks"
    )
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        default=list,
        max_length=7,
        help_text="0 = Monday; weekly only; empty: the first date's weekday",
    )
    count = serializers.IntegerField(
        min_value=1, max_value=SERIES_MAX_OCCURRENCES, required=False, allow_null=True, help_text="N times"
    )
    until = serializers.DateField(
        validators=[plausible_date], required=False, allow_null=True, help_text="last local date, inclusive"
    )

    def validate(self, attrs):
        if (attrs.get("count") is None) == (attrs.get("until") is None):
            raise serializers.ValidationError(
                {"count": _("Say how the series ends: after a number of appointments or on a date.")}
            )
        return attrs


def _recurrence(data: dict) -> Recurrence:
    return Recurrence(
        first_date=data["first_date"],
        time=data["time"],
        frequency=data["frequency"],
        interval=data["interval"],
        weekdays=tuple(data["weekdays"]),
        count=data.get("count"),
        until=data.get("until"),
    ).checked()


class SeriesBookInput(RuleInput):
    customer = serializers.PrimaryKeyRelatedField(  # restricted processing (Art. 18 GDPR): not bookable
        queryset=Customer.objects.filter(processing_restricted=False), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    occurrences = serializers.ListField(
        child=InstantField(validators=[plausible_date]),
        required=False,
        allow_null=True,
        max_length=SERIES_MAX_OCCURRENCES,
        help_text="the starts to book (the free ones, alternatives instead of taken ones); "
        "left out: every occurrence of the rule, all or nothing",
    )


class AlternativeOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    staff = serializers.IntegerField(source="staff_id", allow_null=True)


class OccurrenceCheckOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    free = serializers.BooleanField()
    reason = serializers.CharField(help_text="why the time is taken; empty when free")
    alternative = AlternativeOutput(allow_null=True, help_text="the nearest free time (taken ones only)")


class PreviewOutput(serializers.Serializer):
    occurrences = OccurrenceCheckOutput(many=True)


class SeriesOutput(serializers.ModelSerializer):
    weekdays = serializers.SerializerMethodField()
    appointments = serializers.SerializerMethodField()

    class Meta:
        model = Series
        fields = [
            "id", "service", "customer", "frequency", "interval", "weekdays", "first_date", "time", "count",
            "until", "created_at", "appointments",
        ]  # fmt: skip

    def get_weekdays(self, obj) -> list[int]:
        return [int(day) for day in obj.weekdays]

    @extend_schema_field(AppointmentOutput(many=True))
    def get_appointments(self, obj) -> list[dict]:
        rows = Appointment.objects.filter(series=obj).prefetch_related("allocations").order_by("start", "pk")
        return AppointmentOutput(rows, many=True).data


class OccurrenceChangeInput(serializers.Serializer):
    appointment = serializers.IntegerField(help_text="the occurrence to start from")
    scope = serializers.ChoiceField(
        choices=series.SCOPES, default=series.THIS, help_text="this one, or this and all following"
    )


class SeriesCancelInput(OccurrenceChangeInput):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    notify = serializers.BooleanField(required=False, default=True, help_text="tell the customer")


class SeriesMoveInput(OccurrenceChangeInput):
    start = InstantField(validators=[plausible_date], help_text="the new start of this occurrence")
    staff = serializers.PrimaryKeyRelatedField(
        queryset=Resource.objects.filter(kind=ResourceKind.STAFF), required=False
    )


class SeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appointment series. A staff member sees series with an occurrence in their own column."""

    serializer_class = SeriesOutput

    def get_queryset(self):
        return series_list(user=self.request.user)

    def _actor(self) -> Actor:
        request = self.request
        return Actor(
            source=AppointmentSource.API if request.auth else AppointmentSource.BACKOFFICE, user=request.user
        )

    @extend_schema(request=RuleInput, responses=PreviewOutput)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Each date of the rule, free or taken (with the reason and the nearest free alternative).
        Nothing is stored."""
        data = _valid(RuleInput, request.data)
        staff = series.series_staff(user=request.user, staff=data.get("staff"))
        needs = series_needs(service=data["service"], staff=staff, room=data.get("room"))
        zone = timezone.get_current_timezone()
        checks = occurrences_check(needs=needs, starts=_recurrence(data).starts(zone), zone=zone)
        return Response(PreviewOutput({"occurrences": checks}).data)

    @extend_schema(request=SeriesBookInput, responses={201: SeriesOutput})
    def create(self, request):
        """Book the series in one transaction: all given occurrences (or every one of the rule) or none
        (409 naming the first taken date)."""
        data = _valid(SeriesBookInput, request.data)
        made = series.series_book(
            actor=self._actor(),
            service=data["service"],
            recurrence=_recurrence(data),
            zone=timezone.get_current_timezone(),
            staff=data.get("staff"),
            room=data.get("room"),
            customer=data.get("customer"),
            notes=data["notes"],
            starts=data.get("occurrences"),
        )
        return Response(SeriesOutput(made).data, status=201)

    def _occurrence(self, made: Series, pk: int) -> Appointment:
        return get_object_or_404(Appointment.objects.filter(series=made), pk=pk)

    @extend_schema(request=SeriesCancelInput, responses=SeriesOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel one occurrence, or it and all following ones (one message to the customer)."""
        made = self.get_object()
        data = _valid(SeriesCancelInput, request.data)
        series.series_cancel(
            actor=self._actor(),
            appointment=self._occurrence(made, data["appointment"]),
            scope=data["scope"],
            reason=data["reason"],
            notify=data["notify"],
        )
        return Response(SeriesOutput(made).data)

    @extend_schema(request=SeriesMoveInput, responses=SeriesOutput)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move one occurrence, or it and all following ones by as many days to the same new local time;
        all or nothing."""
        made = self.get_object()
        data = _valid(SeriesMoveInput, request.data)
        series.series_move(
            actor=self._actor(),
            appointment=self._occurrence(made, data["appointment"]),
            start=data["start"],
            zone=timezone.get_current_timezone(),
            staff=data.get("staff"),
            scope=data["scope"],
        )
        return Response(SeriesOutput(made).data)
