"""Staff REST API of the waitlist (`/api/v1/waitlist/`): the list, each entry's matching free times,
offering one by hand, taking someone off the list, and the business's waitlist rules."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.shared.timefields import InstantField
from termino.tenants.scheduling import selectors as scheduling_selectors
from termino.tenants.scheduling.apis import ManagersWrite, plausible_date

from . import selectors, services
from .models import Entry, EntryStatus, Offer, WaitlistSettings


class OfferOutput(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = [
            "id", "entry", "start", "end", "resource", "status", "expires_at", "appointment", "offered_by",
            "created_at", "decided_at",
        ]  # fmt: skip


class EntryOutput(serializers.ModelSerializer):
    customer_name = serializers.SerializerMethodField()

    class Meta:
        model = Entry
        fields = [
            "id", "service", "resource", "customer", "customer_name", "date_from", "date_to", "weekdays",
            "day_parts", "note", "status", "created_at", "ended_at",
        ]  # fmt: skip

    def get_customer_name(self, obj) -> str:
        return str(obj.customer)


class EntryFilterInput(serializers.Serializer):
    service = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=EntryStatus.choices, required=False)


class SlotOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    resources = serializers.ListField(child=serializers.IntegerField())


class OfferInput(serializers.Serializer):
    start = InstantField(validators=[plausible_date])
    resource = serializers.IntegerField(required=False, allow_null=True, min_value=1)


@extend_schema(parameters=[OpenApiParameter("service", int), OpenApiParameter("status", str)])
class EntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Customers on the waitlist, in the order they joined; DELETE takes one off (kept as removed)."""

    serializer_class = EntryOutput

    def get_queryset(self):
        entries = Entry.objects.select_related("customer").order_by("created_at", "pk")
        if self.action != "list":
            return entries
        filters = EntryFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        entries = entries.filter(status=data.get("status", EntryStatus.WAITING))
        if "service" in data:
            entries = entries.filter(service_id=data["service"])
        return entries

    def perform_destroy(self, instance):
        services.entry_remove(entry=instance)

    @extend_schema(responses=SlotOutput(many=True))
    @action(detail=True, methods=["get"])
    def matches(self, request, pk=None):
        """The next free times that suit this entry and have not been offered to it."""
        entry = self.get_object()
        zone = timeutils.zone(current_business().time_zone)
        today = timeutils.today(zone)
        horizon = today + timedelta(days=entry.service.horizon_days)
        slots = scheduling_selectors.free_slots(
            service=entry.service,
            start_date=max(today, entry.date_from or today),
            end_date=min(entry.date_to or horizon, horizon),
            time_zone=str(zone),
        )
        offered = set(Offer.objects.filter(entry=entry).values_list("entry_id", "start"))
        found = selectors.entry_matches(entry, slots, zone, offered)
        return Response(SlotOutput([s.as_json() for s in found], many=True).data)

    @extend_schema(request=OfferInput, responses={201: OfferOutput})
    @action(detail=True, methods=["post"])
    def offer(self, request, pk=None):
        """Offer one free time to this customer by hand (held for them like the matcher's offers)."""
        entry = self.get_object()
        data = OfferInput(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.offer_by_hand(
            entry=entry,
            start=data.validated_data["start"],
            resource_id=data.validated_data.get("resource"),
            user=request.user,
        )
        return Response(OfferOutput(offer).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("entry", int)])
class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Offers made, newest first."""

    serializer_class = OfferOutput

    def get_queryset(self):
        offers = Offer.objects.order_by("-created_at", "-pk")
        entry = self.request.query_params.get("entry", "")
        if self.action == "list" and entry:
            if not entry.isdigit() or len(entry) > 12:
                raise serializers.ValidationError({"entry": ["A valid integer is required."]})
            offers = offers.filter(entry_id=int(entry))
        return offers


class SettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = WaitlistSettings
        ref_name = "WaitlistSettings"
        fields = ["offer_count", "offer_minutes"]
        extra_kwargs = {
            "offer_count": {"min_value": 1, "max_value": 20, "required": True},
            "offer_minutes": {"min_value": 10, "max_value": 7 * 24 * 60, "required": True},
        }


class SettingsApi(APIView):
    """How many waiting customers each free time is offered to, and how long an offer holds it."""

    permission_classes = [IsAuthenticated, ManagersWrite]

    @extend_schema(responses=SettingsSerializer)
    def get(self, request):
        return Response(SettingsSerializer(WaitlistSettings.current()).data)

    @extend_schema(request=SettingsSerializer, responses=SettingsSerializer)
    def put(self, request):
        data = SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rules = services.settings_update(**data.validated_data)
        return Response(SettingsSerializer(rules).data)
