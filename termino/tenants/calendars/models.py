"""Calendars outside Termino (tenant schema): subscription feeds out, CalDAV calendars both ways.

- `FeedToken`: the secret of a subscription URL (`/calendar/<token>.ics`), of one staff member's column or of
  the whole business. Only a keyed SHA-256 finds the row; the token itself is kept encrypted so its owner
  can read the URL again.
- `CalDavConnection`: one staff member's CalDAV calendar, its password encrypted at rest; what the last
  pull or write found is its `state`, shown in the settings.
- `ExternalBusy`: one busy period pulled from that calendar, held as a `scheduling.Closure` of the staff
  member's column, the row the availability engine already reads.
- `PushedEvent`: an appointment written into that calendar (its address and ETag there).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FeedDetail(models.TextChoices):
    BUSY = "busy", _("Only “busy”")
    SERVICE = "service", _("Service")
    FIRST_NAME = "first_name", _("Service and the customer's first name")
    FULL_NAME = "full_name", _("Service and the customer's full name")


class CalendarSettings(models.Model):
    """The business's choices for every feed (one row, id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    feed_detail = models.CharField(
        _("what feeds show of an appointment"),
        max_length=16,
        choices=FeedDetail.choices,
        default=FeedDetail.FIRST_NAME,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(name="calendar_settings_single_row", condition=Q(id=1))]

    def __str__(self) -> str:
        return self.feed_detail


class FeedToken(models.Model):
    # Null: the business's feed (every column); else one staff member's column.
    resource = models.ForeignKey(
        "scheduling.Resource", on_delete=models.CASCADE, null=True, blank=True, related_name="feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_encrypted = models.TextField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(revoked_at__isnull=True, resource__isnull=False),
                name="feed_token_one_live_per_resource",
            ),
            models.UniqueConstraint(
                fields=["revoked_at"],
                condition=Q(revoked_at__isnull=True, resource__isnull=True),
                name="feed_token_one_live_for_business",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"feed {self.resource_id or 'business'} {self.created_at:%Y-%m-%d}"


class ConnectionState(models.TextChoices):
    PENDING = "pending", _("Connecting")
    OK = "ok", _("Connected")
    AUTH_FAILED = "auth_failed", _("User name or password refused")
    NOT_FOUND = "not_found", _("Calendar not found")
    UNREACHABLE = "unreachable", _("Server not reachable")
    ERROR = "error", _("The server answered with an error")


class CalDavConnection(models.Model):
    resource = models.OneToOneField(
        "scheduling.Resource", on_delete=models.CASCADE, related_name="caldav_connection"
    )
    url = models.URLField(_("calendar URL"), max_length=500)
    username = models.CharField(_("user name"), max_length=200)
    password_encrypted = models.TextField()
    state = models.CharField(max_length=16, choices=ConnectionState.choices, default=ConnectionState.PENDING)
    # The server's words of the last failure (status line), shown under the state.
    state_detail = models.CharField(max_length=300, blank=True)
    # The collection's sync token (or CTag) at the last complete pull: unchanged means nothing to fetch.
    sync_token = models.CharField(max_length=500, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    # When the events were last read in full (an unchanged sync token skips reading them for a while).
    events_read_at = models.DateTimeField(null=True, blank=True)
    # When the next scheduled pull is due (the due index's `calendars.pull` reads the earliest).
    next_pull_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="caldav_url_is_http", condition=Q(url__regex=r"^https?://")),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.state}"


class ExternalBusy(models.Model):
    # No index of its own: external_busy_uid_idx starts with it.
    connection = models.ForeignKey(
        CalDavConnection, on_delete=models.CASCADE, related_name="busy", db_index=False
    )
    closure = models.OneToOneField("scheduling.Closure", on_delete=models.CASCADE, related_name="external")
    uid = models.CharField(max_length=500)

    class Meta:
        indexes = [models.Index(fields=["connection", "uid"], name="external_busy_uid_idx")]

    def __str__(self) -> str:
        return self.uid


class PushedEvent(models.Model):
    # No index of its own: pushed_event_once starts with it.
    connection = models.ForeignKey(
        CalDavConnection, on_delete=models.CASCADE, related_name="pushed", db_index=False
    )
    appointment = models.ForeignKey("scheduling.Appointment", on_delete=models.CASCADE, related_name="+")
    href = models.CharField(max_length=1000)
    etag = models.CharField(max_length=200, blank=True)
    sequence = models.PositiveIntegerField(default=0)
    # What was written (a digest of the event without DTSTAMP): the same again is not written twice.
    digest = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "appointment"], name="pushed_event_once"),
        ]

    def __str__(self) -> str:
        return self.href
