"""What may free a time, each a reason to match the waitlist again (in a worker, after the commit):

- an appointment cancelled, declined, moved or shortened (scheduling's lifecycle events);
- a closure removed or changed, weekly hours added or changed, a resource (again) active or given the
  service (signals, which also see the backoffice's and the admin's deletes).
Holds that lapse are the waitlist's own due work (`due.py`).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from termino.tenants.scheduling import events
from termino.tenants.scheduling.models import Closure, Resource, Service, WeeklyHours

FREEING = {events.CANCELLED, events.DECLINED, events.MOVED, events.RESIZED}


def on_appointment_event(event: events.AppointmentEvent) -> None:
    if event.kind in FREEING:
        from .services import match_soon

        match_soon()


def _changed(sender, **kwargs):
    from .services import match_soon

    match_soon()


def connect() -> None:
    events.subscribe(on_appointment_event)
    post_delete.connect(_changed, sender=Closure, dispatch_uid="waitlist-closure-delete")
    post_save.connect(_changed, sender=Closure, dispatch_uid="waitlist-closure-save")
    post_save.connect(_changed, sender=WeeklyHours, dispatch_uid="waitlist-hours-save")
    post_save.connect(_changed, sender=Resource, dispatch_uid="waitlist-resource-save")
    m2m_changed.connect(_changed, sender=Service.resources.through, dispatch_uid="waitlist-service-resources")
