"""Services, resources (staff and rooms), working hours and appointments (tenant schema).

Double bookings are made impossible by the database: every appointment holds one `Allocation` per
resource it uses, and an exclusion constraint forbids two active allocations of one resource to overlap.
"""

import datetime
import uuid

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from termino.shared.db.functions import EpochMicroseconds

from .availability import interval_text

# A series books at most this many appointments at once (the preview and the booking refuse more).
SERIES_MAX_OCCURRENCES = 52
# A service booked online as a series (a course) repeats every 1 to this many weeks.
ONLINE_SERIES_MAX_INTERVAL_WEEKS = 4


class Service(models.Model):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    price = models.DecimalField(_("price (EUR)"), max_digits=8, decimal_places=2, default=0)
    buffer_before_minutes = models.PositiveIntegerField(_("buffer before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveIntegerField(_("buffer after (minutes)"), default=0)
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=60)
    horizon_days = models.PositiveIntegerField(_("booking horizon (days)"), default=60)
    slot_step_minutes = models.PositiveIntegerField(_("slot step (minutes)"), default=15)
    capacity = models.PositiveIntegerField(_("capacity (customers per appointment)"), default=1)
    requires_room = models.BooleanField(_("needs a room"), default=False)
    # Processing time (e.g. colour taking effect): from `processing_after_minutes` into the service, for
    # `processing_minutes`, the staff member is free for others; the customer and the room stay occupied.
    processing_after_minutes = models.PositiveIntegerField(_("processing starts after (minutes)"), default=0)
    processing_minutes = models.PositiveIntegerField(_("processing time (minutes)"), default=0)
    colour = models.CharField(_("colour"), max_length=7, default="#3b82f6")
    bookable_online = models.BooleanField(_("bookable online"), default=True)
    active = models.BooleanField(_("active"), default=True)
    # A course: customers book it online only as a whole, this many appointments at the same weekday and
    # local time every `online_series_interval_weeks` weeks, all with one staff member (0: single bookings).
    online_series_count = models.PositiveSmallIntegerField(
        _("booked online as a series of (appointments)"), default=0
    )
    online_series_interval_weeks = models.PositiveSmallIntegerField(_("every (weeks)"), default=1)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(name="service_duration_positive", condition=Q(duration_minutes__gt=0)),
            models.CheckConstraint(name="service_price_not_negative", condition=Q(price__gte=0)),
            models.CheckConstraint(
                name="service_colour_hex", condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$")
            ),
            models.CheckConstraint(name="service_capacity_positive", condition=Q(capacity__gte=1)),
            models.CheckConstraint(name="service_step_positive", condition=Q(slot_step_minutes__gt=0)),
            models.CheckConstraint(name="service_horizon_positive", condition=Q(horizon_days__gt=0)),
            # The staff member works before and after processing: it lies strictly inside the service.
            models.CheckConstraint(
                name="service_processing_inside",
                condition=Q(processing_minutes=0)
                | Q(
                    processing_after_minutes__gt=0,
                    duration_minutes__gt=F("processing_after_minutes") + F("processing_minutes"),
                ),
            ),
            # Group sessions share one period per resource; a gap in it is not modelled.
            models.CheckConstraint(
                name="service_processing_single", condition=Q(processing_minutes=0) | Q(capacity=1)
            ),
            # Off, or a real series (one appointment is an ordinary booking) within the series limit.
            models.CheckConstraint(
                name="service_online_series_count_range",
                condition=Q(online_series_count=0)
                | Q(online_series_count__gte=2, online_series_count__lte=SERIES_MAX_OCCURRENCES),
            ),
            models.CheckConstraint(
                name="service_online_series_interval_range",
                condition=Q(
                    online_series_interval_weeks__gte=1,
                    online_series_interval_weeks__lte=ONLINE_SERIES_MAX_INTERVAL_WEEKS,
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def online_series(self) -> bool:
        """Whether customers book it online as a series of appointments (a course)."""
        return self.online_series_count >= 2

    def online_series_label(self) -> str:
        """ "Course: 6 appointments, weekly" for the booking page; "" for a service booked singly."""
        if not self.online_series:
            return ""
        every = (
            gettext("weekly")
            if self.online_series_interval_weeks == 1
            else gettext("every %(weeks)d weeks") % {"weeks": self.online_series_interval_weeks}
        )
        return ngettext(
            "Course: %(count)d appointment, %(every)s",
            "Course: %(count)d appointments, %(every)s",
            self.online_series_count,
        ) % {"count": self.online_series_count, "every": every}


class ResourceKind(models.TextChoices):
    STAFF = "staff", _("Staff member")
    ROOM = "room", _("Room or equipment")


class Resource(models.Model):
    kind = models.CharField(_("kind"), max_length=8, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="resource"
    )
    services = models.ManyToManyField(Service, related_name="resources", blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                name="resource_only_staff_has_user", condition=Q(kind="staff") | Q(user__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WeeklyHours(models.Model):
    """One interval of a weekday in local wall-clock time; several per day model breaks.

    Without a resource the row is the business's opening hours. An `end` of 00:00 means 24:00, the end of
    the day (PostgreSQL's `time` could store 24:00, but psycopg cannot load it into a Python `time`), so
    22:00–00:00 is open until midnight and 00:00–00:00 the whole day. An interval never runs past
    midnight: a night shift is 22:00–24:00 on one day and 00:00–06:00 on the next.
    """

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday, as date.weekday()
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["resource_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(name="hours_weekday_range", condition=Q(weekday__lte=6)),
            models.CheckConstraint(
                name="hours_start_before_end_or_midnight",
                condition=Q(start__lt=F("end")) | Q(end=datetime.time(0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource or '-'} {self.weekday} {interval_text(self.start, self.end)}"


class Closure(models.Model):
    """Time when the business (no resource) or one resource is closed: holidays, vacation, maintenance."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="closures"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Set for public holidays imported from the `holidays` library, so a re-import changes nothing.
    holiday_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(name="closure_start_before_end", condition=Q(start__lt=F("end"))),
            models.UniqueConstraint(
                fields=["holiday_date"],
                condition=Q(resource__isnull=True),
                name="closure_one_holiday_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.start:%Y-%m-%d}"


class AppointmentStatus(models.TextChoices):
    # A context of their own: "Cancelled" is "Abgesagt" for an appointment, "Gekündigt" for a business.
    HELD = "held", pgettext_lazy("appointment status", "Held while booking")
    REQUESTED = "requested", pgettext_lazy("appointment status", "Requested")
    CONFIRMED = "confirmed", pgettext_lazy("appointment status", "Confirmed")
    CANCELLED = "cancelled", pgettext_lazy("appointment status", "Cancelled")
    NO_SHOW = "no_show", pgettext_lazy("appointment status", "No-show")
    COMPLETED = "completed", pgettext_lazy("appointment status", "Completed")


# Statuses of appointments still to come.
ACTIVE_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


class AppointmentSource(models.TextChoices):
    BACKOFFICE = "backoffice", _("Backoffice")
    WIDGET = "widget", _("Booking page")
    API = "api", _("API")


VISIT_MAX_SERVICES = 5  # a visit of more services is not something a customer books in one go


class Visit(models.Model):
    """Several services booked back to back for one customer as one booking.

    Each service stays an `Appointment` of its own (its staff member, history, calendar entry, no-show
    mark); the visit groups them. Its lead (the earliest appointment) carries the manage link, sends the one
    confirmation and its reminders; cancelling through the link cancels every appointment of the visit.
    """

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        return f"visit {self.pk}"


class Appointment(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.CONFIRMED
    )
    source = models.CharField(
        _("source"), max_length=16, choices=AppointmentSource.choices, default=AppointmentSource.BACKOFFICE
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    notes = models.TextField(_("notes"), blank=True)
    price = models.DecimalField(_("price (EUR)"), max_digits=8, decimal_places=2, default=0)
    cancel_reason = models.CharField(_("reason for cancellation"), max_length=500, blank=True)
    # The secret in the customer's manage link (cancel/reschedule); only for online bookings.
    manage_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # A hold keeps a slot for a customer filling in the booking form; it lapses at this time.
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the appointment is one occurrence of a repeating series.
    series = models.ForeignKey(
        "Series", on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["start"], name="appointment_start_idx"),
            # Every availability statement leaves out lapsed holds: the few held rows, not every appointment.
            models.Index(fields=["hold_expires_at"], condition=Q(status="held"), name="appointment_held_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="appointment_start_before_end", condition=Q(start__lt=F("end"))),
            models.CheckConstraint(
                name="appointment_hold_has_expiry",
                condition=Q(status="held", hold_expires_at__isnull=False)
                | (~Q(status="held") & Q(hold_expires_at__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.start:%Y-%m-%d %H:%M}"

    def resource_names(self) -> list[str]:
        """Who and what it holds, each once (a staff member with processing time holds two pieces)."""
        return list(dict.fromkeys(allocation.resource.name for allocation in self.allocations.all()))


class AllocationPhase(models.IntegerChoices):
    WHOLE = 0, "whole"  # the whole held time, buffers included
    BEFORE_PROCESSING = 1, "before processing"  # a staff member's work up to the processing time
    AFTER_PROCESSING = 2, "after processing"  # ... and after it (rinse); the gap is free for others


class Allocation(models.Model):
    """The time one resource is held by one appointment, buffers included.

    Participants of one group session share `session`; allocations of different sessions may not overlap.
    With processing time the staff member holds two rows (phases 1 and 2) with a gap between them, which the
    exclusion constraint leaves free for other appointments; rooms hold the whole time (phase 0).
    """

    # No index of its own: allocation_once_per_resource_phase starts with it.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="allocations", db_index=False
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="allocations")
    period = DateTimeRangeField()
    session = models.UUIDField(default=uuid.uuid4)
    # False once the appointment is cancelled; only active rows block (no-shows used the time too).
    active = models.BooleanField(default=True)
    phase = models.PositiveSmallIntegerField(choices=AllocationPhase.choices, default=AllocationPhase.WHOLE)
    # The period's bounds in the engine's unit, kept by PostgreSQL itself: the availability statement reads
    # thousands of them, and converting each bound as it reads cost more than the rest of its work.
    start_us = models.GeneratedField(
        expression=EpochMicroseconds("period", bound="LOWER"),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    end_us = models.GeneratedField(
        expression=EpochMicroseconds("period", bound="UPPER"),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "resource", "phase"], name="allocation_once_per_resource_phase"
            ),
            models.CheckConstraint(name="allocation_phase_known", condition=Q(phase__lte=2)),
            ExclusionConstraint(
                name="allocation_no_overlap",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    ("period", RangeOperators.OVERLAPS),
                    ("session", RangeOperators.NOT_EQUAL),
                ],
                condition=Q(active=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.period}"


class AppointmentChange(models.Model):
    """One line of an appointment's history, written by the `scheduling.history` subscriber in the same
    transaction as the change itself: what happened, by whom, through which door, from what to what."""

    # No index of its own: appointment_change_idx starts with it.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("change"), max_length=16)
    source = models.CharField(_("source"), max_length=16, choices=AppointmentSource.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Start, end, status and resources before and after, as ISO strings and ids (no personal data).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField()
    # The business's reason given with a cancellation or decline; cleared when the customer is erased.
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("appointment change")
        verbose_name_plural = _("appointment changes")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["appointment", "at"], name="appointment_change_idx")]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class SeriesFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class Series(models.Model):
    """Appointments booked together as one repeating series ("6 × Tuesday 08:00, weekly").

    The rule is kept as it was asked (local wall-clock time in the business's zone, weekdays as
    `date.weekday()`); the appointments themselves are the truth: an occurrence moved to an alternative,
    skipped or cancelled stays what it is. `revision` counts changes made to several occurrences at once
    (move or cancel "this and following"), so each such change sends the customer one message.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="series")
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="series"
    )
    frequency = models.CharField(_("repeats"), max_length=8, choices=SeriesFrequency.choices)
    interval = models.PositiveSmallIntegerField(_("every"), default=1)
    weekdays = models.CharField(_("weekdays"), max_length=7, blank=True)  # "13": Tuesday and Thursday
    first_date = models.DateField(_("first date"))
    time = models.TimeField(_("time"))
    count = models.PositiveSmallIntegerField(_("number of appointments"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appointment series")
        verbose_name_plural = _("appointment series")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="series_interval_positive", condition=Q(interval__gte=1)),
            models.CheckConstraint(
                name="series_ends_by_count_or_date",
                condition=Q(count__isnull=False, until__isnull=True)
                | Q(count__isnull=True, until__isnull=False),
            ),
            models.CheckConstraint(
                name="series_count_capped",
                condition=Q(count__isnull=True) | Q(count__gte=1, count__lte=SERIES_MAX_OCCURRENCES),
            ),
            models.CheckConstraint(name="series_until_after_first", condition=Q(until__gte=F("first_date"))),
            models.CheckConstraint(name="series_weekdays_digits", condition=Q(weekdays__regex=r"^[0-6]*$")),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.frequency} {self.first_date:%Y-%m-%d} {self.time:%H:%M}"
