"""What the booking page does when an appointment changes elsewhere (scheduling's lifecycle events)."""

from termino.tenants.scheduling import events

from .models import IdempotentRequest


def forget_stored_answers(event: events.AppointmentEvent) -> None:
    """An anonymised appointment: the public API's stored answers name its manage link; they go."""
    if event.kind == events.ANONYMISED:
        IdempotentRequest.objects.filter(body__id=event.appointment.pk).delete()


def subscribe() -> None:
    events.subscribe(forget_stored_answers)
