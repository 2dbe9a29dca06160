"""An appointment's history: every lifecycle event becomes one `AppointmentChange` row.

Subscribed in the writing transaction (scheduling's AppConfig.ready), so a change and its history line
commit or roll back together. The rows carry times, status and resource ids, never customer data; the only
free text, the business's reason, is cleared when the customer is erased.
"""

from django.db.models import QuerySet

from termino.shared import timeutils

from . import events
from .models import Appointment, AppointmentChange


def _state(snapshot: events.Snapshot | None) -> dict | None:
    if snapshot is None:
        return None
    return {
        "start": snapshot.start.isoformat(),
        "end": snapshot.end.isoformat(),
        "status": snapshot.status,
        "resources": list(snapshot.resource_ids),
    }


def record(event: events.AppointmentEvent) -> None:
    if event.kind == events.ANONYMISED:
        AppointmentChange.objects.filter(appointment=event.appointment).exclude(reason="").update(reason="")
    AppointmentChange.objects.create(
        appointment=event.appointment,
        at=timeutils.now(),
        kind=event.kind,
        source=event.actor.source,
        changed_by=event.actor.user if getattr(event.actor.user, "pk", None) else None,
        before=_state(event.before),
        after=_state(event.after),
        reason="" if event.kind == events.ANONYMISED else event.reason,
    )


def appointment_history(*, appointment: Appointment) -> QuerySet[AppointmentChange]:
    return appointment.changes.select_related("changed_by").order_by("at", "id")
