"""Appointments reach the staff members' connected calendars: after every committed change of an
appointment, one push task per connected column it was or is in (a Celery worker does the network)."""

from django.db import connection

from termino.tenants.scheduling import events

from .services import push_targets


def on_appointment_event(event: events.AppointmentEvent) -> None:
    resource_ids = set(event.after.resource_ids) | set(event.before.resource_ids if event.before else ())
    if not resource_ids:
        return
    from .tasks import push  # tasks import services, which import this app's models

    schema = connection.schema_name
    for connection_id in push_targets(resource_ids):
        push.delay(schema_name=schema, appointment_id=event.appointment.pk, connection_id=connection_id)


def register() -> None:
    events.subscribe(on_appointment_event, on_commit=True)
