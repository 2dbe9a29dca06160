"""The waitlist: customers waiting for a time of a service, and the free times offered to them.

A time that frees up (a cancellation, a move, a closure removed, new hours) is held for the first waiting
customers it suits (`WaitlistSettings.offer_count`, 3 by default), each told by e-mail or SMS with a link
of their own; the first to confirm books it, the others read "already taken" and stay on the list. One
held appointment (status HELD) keeps the time for all offers of that round, so nobody else books it
meanwhile; the database keeps "offered at most once per time" and "one open offer per entry".
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WaitlistSettings(models.Model):
    """The business's waitlist rules, one row (id = 1)."""

    offer_count = models.PositiveSmallIntegerField(_("customers offered each free time"), default=3)
    offer_minutes = models.PositiveIntegerField(_("an offer holds the time for (minutes)"), default=120)

    class Meta:
        verbose_name = _("waitlist settings")
        constraints = [
            models.CheckConstraint(
                name="waitlist_offer_count_range", condition=Q(offer_count__range=(1, 20))
            ),
            models.CheckConstraint(
                name="waitlist_offer_minutes_range", condition=Q(offer_minutes__range=(10, 7 * 24 * 60))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_count} × {self.offer_minutes} min"

    @classmethod
    def current(cls) -> "WaitlistSettings":
        return cls.objects.get_or_create(pk=1)[0]


class DayPart(models.TextChoices):
    """Parts of the day as the booking page groups its times (local start time)."""

    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")
    EVENING = "evening", _("Evening")


class EntryStatus(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("waitlist entry", "Waiting")
    BOOKED = "booked", pgettext_lazy("waitlist entry", "Booked")
    LEFT = "left", pgettext_lazy("waitlist entry", "Removed")


class Entry(models.Model):
    """One customer waiting for a service, optionally with one staff member, within days, weekdays and
    parts of the day (empty: any).

    Joining again for the same service changes the wish and keeps the place (under the booking page's lock
    on the contact data). Not a unique constraint: merging two customer entries moves both people's places
    to the one kept, and the matcher then asks them once per service (their earliest place).
    """

    service = models.ForeignKey("scheduling.Service", on_delete=models.CASCADE, related_name="+")
    # A staff member who leaves the calendar widens the wish to anyone rather than dropping the customer.
    resource = models.ForeignKey(
        "scheduling.Resource", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Erasing the customer erases their places on the list.
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="waitlist_entries")
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("until"), null=True, blank=True)
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)  # 0 = Monday
    day_parts = ArrayField(models.CharField(max_length=9), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=EntryStatus.choices, default=EntryStatus.WAITING)
    # SHA-256 of the secret in the customer's link to leave the list.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["service", "created_at"], condition=Q(status="waiting"), name="waitlist_waiting_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(name="waitlist_status_valid", condition=Q(status__in=EntryStatus.values)),
            models.CheckConstraint(
                name="waitlist_dates_ordered",
                condition=Q(date_from__isnull=True)
                | Q(date_to__isnull=True)
                | Q(date_from__lte=F("date_to")),
            ),
            models.CheckConstraint(
                name="waitlist_weekdays_valid", condition=Q(weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6])
            ),
            models.CheckConstraint(
                name="waitlist_day_parts_valid", condition=Q(day_parts__contained_by=DayPart.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.service_id} ({self.status})"


class OfferStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("waitlist offer", "Open")
    ACCEPTED = "accepted", pgettext_lazy("waitlist offer", "Booked")
    TAKEN = "taken", pgettext_lazy("waitlist offer", "Taken by another customer")
    DECLINED = "declined", pgettext_lazy("waitlist offer", "Declined")
    EXPIRED = "expired", pgettext_lazy("waitlist offer", "Expired")


class Offer(models.Model):
    """A free time offered to one waiting customer, held for them (with the round's other offers) until
    `expires_at`."""

    # No index of its own: waitlist_offer_once_per_time starts with it.
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="offers", db_index=False)
    # The held appointment of the round; it becomes the booking of whoever confirms first.
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    resource = models.ForeignKey(
        "scheduling.Resource", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    # SHA-256 of the secret in the offer's link (single-purpose: it only shows and books this offer).
    token_hash = models.CharField(max_length=64, unique=True)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # staff who offered it by hand; None: offered by the system
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="open"), name="waitlist_open_offer_idx")
        ]
        constraints = [
            models.CheckConstraint(
                name="waitlist_offer_status_valid", condition=Q(status__in=OfferStatus.values)
            ),
            models.CheckConstraint(name="waitlist_offer_start_before_end", condition=Q(start__lt=F("end"))),
            # A customer is offered a time at most once.
            models.UniqueConstraint(fields=["entry", "start"], name="waitlist_offer_once_per_time"),
            # And waits for one answer at a time.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="open"), name="waitlist_one_open_offer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} @ {self.start:%Y-%m-%d %H:%M} ({self.status})"
