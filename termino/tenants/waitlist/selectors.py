"""Reads of the waitlist: the list per service with each entry's matching free times, and offers."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Prefetch, QuerySet

from termino.platform.tenancy.selectors import current_business
from termino.shared import timeutils
from termino.tenants.scheduling import selectors as scheduling_selectors
from termino.tenants.scheduling.models import Service

from . import criteria
from .models import Entry, EntryStatus, Offer, OfferStatus

MATCHES_SHOWN = 5


def entries_waiting(*, service_id: int | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.filter(status=EntryStatus.WAITING)
    if service_id is not None:
        entries = entries.filter(service_id=service_id)
    return entries.select_related("customer", "service", "resource").prefetch_related(
        Prefetch("offers", queryset=Offer.objects.order_by("-created_at", "-pk"))
    )


def offer_list(*, entry_id: int | None = None) -> QuerySet[Offer]:
    offers = Offer.objects.select_related("entry__customer", "entry__service", "resource")
    if entry_id is not None:
        offers = offers.filter(entry_id=entry_id)
    return offers.order_by("-created_at", "-pk")


@dataclass
class EntryView:
    entry: Entry
    open_offer: Offer | None
    matches: list = field(default_factory=list)  # free times that suit, not offered to it before


@dataclass
class ServiceList:
    service: Service
    entries: list[EntryView]


def entry_matches(entry: Entry, slots, zone, offered: set) -> list:
    return [
        slot
        for slot in slots
        if (entry.pk, slot.start) not in offered and criteria.suits(entry, slot.start, slot.resources, zone)
    ][:MATCHES_SHOWN]


def waitlist_by_service() -> list[ServiceList]:
    """Each service with people waiting, in the order they joined, with the next free times that suit each
    (one load of the free times per service)."""
    zone = timeutils.zone(current_business().time_zone)
    today = timeutils.today(zone)
    grouped: dict[int, list[Entry]] = {}
    for entry in entries_waiting().order_by("service__name", "service_id", "created_at", "pk"):
        grouped.setdefault(entry.service_id, []).append(entry)
    lists = []
    for entries in grouped.values():
        service = entries[0].service
        slots = []
        if service.active:
            last = today + timedelta(days=service.horizon_days)
            slots = scheduling_selectors.free_slots(
                service=service, start_date=today, end_date=last, time_zone=str(zone)
            )
        views = []
        for entry in entries:
            offers = list(entry.offers.all())
            offered = {(entry.pk, o.start) for o in offers}
            open_offer = next((o for o in offers if o.status == OfferStatus.OPEN), None)
            views.append(EntryView(entry, open_offer, entry_matches(entry, slots, zone, offered)))
        lists.append(ServiceList(service, views))
    return lists
