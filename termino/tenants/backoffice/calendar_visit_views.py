"""The calendar's visits: the booking dialog books several services back to back for one customer (as the
engine lays a visit out: each service after the previous one's time and buffers), and an appointment of a
visit can be cancelled together with the rest of it.

Thin: the work is in `scheduling.lifecycle` (visit_book, visit_cancel) and `scheduling.services`.
"""

from django.db import transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling

from .calendar_forms import BookForm, StatusForm
from .calendar_views import _actor, _appointment_for, _form_errors, booking_customer, errors_as_json
from .calendar_visit_forms import VisitPartsForm
from .permissions import EVERYONE, role_required


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def visit_book(request):
    """The booking form's service first, then each further one; all booked at once or none."""
    form = BookForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    more = VisitPartsForm(request.POST)
    if not more.is_valid():
        return _form_errors(more)
    data = form.cleaned_data
    parts = [(data["service"], data.get("staff")), *more.cleaned_data["parts"]]
    starts = scheduling.visit_starts([service for service, _staff in parts], data["start"])
    with transaction.atomic():
        customer = booking_customer(request, data)
        appointments = lifecycle.visit_book(
            actor=_actor(request),
            bookings=[
                scheduling.Booking(
                    service=service,
                    start=start,
                    staff=staff,
                    # The room chosen in the dialog is for the first service; the others take any free one.
                    room=data.get("room") if index == 0 else None,
                )
                for index, ((service, staff), start) in enumerate(zip(parts, starts, strict=True))
            ],
            customer=customer,
            notes=data["notes"],
        )
    return JsonResponse(
        {
            "id": appointments[0].pk,
            "visit": appointments[0].visit_id,
            "appointments": [a.pk for a in appointments],
            "message": _("Visit booked: %(count)d services back to back.") % {"count": len(appointments)},
        },
        status=201,
    )


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def visit_cancel(request, pk: int):
    """Cancel every appointment of the visit that `pk` belongs to and that is still to come."""
    appointment = _appointment_for(request, pk)
    form = StatusForm({"action": "cancel", "reason": request.POST.get("reason", "")})
    if not form.is_valid():
        return _form_errors(form)
    cancelled = lifecycle.visit_cancel(
        actor=_actor(request), appointment=appointment, reason=form.cleaned_data["reason"]
    )
    return JsonResponse(
        {
            "id": appointment.pk,
            "appointments": [a.pk for a in cancelled],
            "message": _("Visit cancelled."),
        }
    )
