"""Staff API of calendar sync (`/api/v1/calendar/…`): each person's own feed address and CalDAV calendar;
owners and managers also the business's feed and what feeds show. Passwords are write-only."""

from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from termino.platform.tenancy.routing import primary_url
from termino.tenants.business.roles import is_manager

from . import selectors, services
from .models import CalDavConnection, FeedDetail

FeedOutput = inline_serializer("CalendarFeed", {"url": serializers.URLField(allow_null=True)})


class Managers(BasePermission):
    message = _("Only the owner or a manager can change this.")

    def has_permission(self, request, view):
        return is_manager(request.user)


def _own_resource(request):
    resource = getattr(request.user, "resource", None)
    if resource is None or not resource.active:
        raise NotFound(_("You have no calendar column of your own."))
    return resource


def _feed(request, resource) -> dict:
    row = selectors.feed_token_live(resource=resource)
    if row is None:
        return {"url": None}
    return {"url": primary_url(request.tenant, f"/calendar/{selectors.feed_token_text(row)}.ics")}


class _FeedApi(APIView):
    permission_classes = [IsAuthenticated]

    def resource(self, request):
        raise NotImplementedError

    @extend_schema(responses=FeedOutput)
    def get(self, request):
        return Response(_feed(request, self.resource(request)))

    @extend_schema(request=None, responses={201: FeedOutput})
    def post(self, request):
        """A new secret address; the previous one stops working."""
        resource = self.resource(request)
        services.feed_token_issue(resource=resource, user=request.user)
        return Response(_feed(request, resource), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.feed_token_revoke(resource=self.resource(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyFeedApi(_FeedApi):
    """The subscription address of your own calendar column."""

    def resource(self, request):
        return _own_resource(request)


class BusinessFeedApi(_FeedApi):
    """The subscription address with every column's appointments (owners and managers)."""

    permission_classes = [IsAuthenticated, Managers]

    def resource(self, request):
        return None


class SettingsSerializer(serializers.Serializer):
    feed_detail = serializers.ChoiceField(choices=FeedDetail.choices)


class CalendarSettingsApi(APIView):
    """What feeds and connected calendars show of an appointment (owners and managers)."""

    permission_classes = [IsAuthenticated, Managers]

    @extend_schema(responses=SettingsSerializer)
    def get(self, request):
        return Response({"feed_detail": selectors.calendar_settings().feed_detail})

    @extend_schema(request=SettingsSerializer, responses=SettingsSerializer)
    def put(self, request):
        data = SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.calendar_settings_update(feed_detail=data.validated_data["feed_detail"])
        return Response({"feed_detail": row.feed_detail})


class ConnectionOutput(serializers.ModelSerializer):
    class Meta:
        model = CalDavConnection
        fields = ["url", "username", "state", "state_detail", "last_pulled_at"]


class ConnectionInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    username = serializers.CharField(max_length=200)
    password = serializers.CharField(max_length=500, write_only=True, trim_whitespace=False)

    def validate_url(self, value):
        if not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError(_("Enter an address starting with https://."))
        return value


class MyCalDavApi(APIView):
    """Your own CalDAV calendar: its state, connecting (or replacing) it, disconnecting it."""

    permission_classes = [IsAuthenticated]

    def _connection(self, request):
        conn = selectors.connection_of(_own_resource(request))
        if conn is None:
            raise NotFound(_("No calendar is connected."))
        return conn

    @extend_schema(responses=ConnectionOutput)
    def get(self, request):
        return Response(ConnectionOutput(self._connection(request)).data)

    @extend_schema(request=ConnectionInput, responses=ConnectionOutput)
    def put(self, request):
        resource = _own_resource(request)
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        conn = services.caldav_connect(resource=resource, **data.validated_data)
        return Response(ConnectionOutput(conn).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not services.caldav_disconnect(resource=_own_resource(request)):
            raise NotFound(_("No calendar is connected."))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyCalDavSyncApi(APIView):
    """Read your calendar's busy times now (at most once per CALDAV_MIN_PULL_SECONDS)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: None})
    def post(self, request):
        from .tasks import pull

        conn = selectors.connection_of(_own_resource(request))
        if conn is None:
            raise NotFound(_("No calendar is connected."))
        pull.delay(schema_name=connection.schema_name, connection_id=conn.pk, on_demand=True)
        return Response(status=status.HTTP_202_ACCEPTED)
