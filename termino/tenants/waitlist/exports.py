"""The waitlist's part of a customer's data export (Art. 15 GDPR): their entries and the offers made to
them. Registered with `privacy.exports` at start-up, which may not import this app."""

from termino.tenants.privacy.exports import section_register

from .models import Entry, Offer

ENTRY_COLUMNS = ["id", "service", "date_from", "date_to", "weekdays", "day_parts", "status", "created_at"]
OFFER_COLUMNS = ["waitlist_id", "start", "end", "status", "expires_at", "created_at"]


def entry_rows(*, customer, when) -> list[dict]:
    entries = Entry.objects.filter(customer=customer).select_related("service").order_by("created_at", "id")
    return [
        {
            "id": e.pk,
            "service": e.service.name,
            "date_from": e.date_from.isoformat() if e.date_from else None,
            "date_to": e.date_to.isoformat() if e.date_to else None,
            "weekdays": list(e.weekdays),
            "day_parts": list(e.day_parts),
            "status": e.status,
            "created_at": when(e.created_at),
        }
        for e in entries
    ]


def offer_rows(*, customer, when) -> list[dict]:
    return [
        {
            "waitlist_id": o.entry_id,
            "start": when(o.start),
            "end": when(o.end),
            "status": o.status,
            "expires_at": when(o.expires_at),
            "created_at": when(o.created_at),
        }
        for o in Offer.objects.filter(entry__customer=customer).order_by("created_at", "id")
    ]


def register() -> None:
    section_register("waitlist", ENTRY_COLUMNS, entry_rows)
    section_register("waitlist_offers", OFFER_COLUMNS, offer_rows)
