"""The calendar: day and week views, booking by phone, moving and the life cycle of an appointment.

The page is server-rendered; calendar.js opens the dialogs and posts form data to the small JSON views
below, which call the scheduling services. A 409 carries the reason (who is booked when) for the dialog.
Staff members work only in their own column: every action checks the resources it touches.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from termino.shared import timeutils
from termino.shared.errors import ConflictError, InvalidRequest, NotPermitted
from termino.tenants.crm import services as crm
from termino.tenants.scheduling import calendar as cal
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Resource,
    ResourceKind,
    Service,
)

from .calendar_forms import REASONED, STATUS_ACTIONS, BookForm, CalendarQuery, MoveForm, StatusForm
from .permissions import EVERYONE, own_resource_ids, role_required

PIXELS_PER_MINUTE = 1.2


@require_GET
@role_required(*EVERYONE)
def calendar_page(request):
    zone = ZoneInfo(request.tenant.time_zone)
    query = CalendarQuery(request.GET)
    params = query.cleaned_data if query.is_valid() else {}
    day = params.get("date") or timeutils.today(zone)
    view = params.get("view") or "day"
    by = params.get("by") or ResourceKind.STAFF
    own = own_resource_ids(request.user)

    resources = cal.calendar_resources(kind=by, resource_ids=own)
    all_staff = cal.calendar_resources(kind=ResourceKind.STAFF, resource_ids=own)
    if view == "week":
        chosen = next(
            (r for r in resources if r.pk == params.get("resource")), resources[0] if resources else None
        )
        week_start = day - timedelta(days=day.weekday())
        days = [week_start + timedelta(days=n) for n in range(7)]
        columns = [chosen] if chosen else []
        step = timedelta(days=7)
    else:
        chosen = None
        days = [day]
        columns = resources
        step = timedelta(days=1)
    grid = (
        cal.calendar_grid(days=days, resources=columns, time_zone=request.tenant.time_zone)
        if columns
        else None
    )

    services = list(Service.objects.filter(active=True).prefetch_related("resources"))
    context = {
        "section": "calendar",
        "grid": grid,
        "day": day,
        "today": timeutils.today(zone),
        "now": timeutils.now(),  # no-show and completed are offered once an appointment has begun
        "view": view,
        "by": by,
        "resources": resources,
        "chosen": chosen,
        "previous": day - step,
        "next": day + step,
        "is_manager": own is None,
        "has_column": own is None or bool(own),
        "ppm": PIXELS_PER_MINUTE,
        "services": services,
        "service_data": [
            {
                "id": s.pk,
                "name": s.name,
                "minutes": s.duration_minutes,
                "colour": s.colour,
                "requires_room": s.requires_room,
                "resources": [r.pk for r in s.resources.all()],
            }
            for s in services
        ],
        "staff": all_staff,
        "rooms": cal.calendar_resources(kind=ResourceKind.ROOM) if own is None else [],
        "time_zone": request.tenant.time_zone,
    }
    return render(request, "backoffice/calendar/page.html", context)


def _actor(request) -> Actor:
    return Actor(source=AppointmentSource.BACKOFFICE, user=request.user)


@require_POST
@role_required(*EVERYONE)
def appointment_book(request):
    form = BookForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            customer = data.get("customer") or crm.customer_create(
                first_name=data["first_name"].strip(),
                last_name=data["last_name"].strip(),
                email=data["email"],
                phone=data["phone"],
                region=request.tenant.country or "DE",
                created_by=request.user,
            )
            appointment = lifecycle.appointment_book(
                actor=_actor(request),
                booking=scheduling.Booking(
                    service=data["service"],
                    start=data["start"],
                    staff=data.get("staff"),
                    room=data.get("room"),
                ),
                customer=customer,
                notes=data["notes"],
            )
    except NotPermitted as exc:
        return _error(exc.message, 403)
    except ConflictError as exc:
        return _error(exc.message, 409)
    except InvalidRequest as exc:
        return _error(exc.message, 400)
    return JsonResponse({"id": appointment.pk, "message": _("Appointment booked.")}, status=201)


@require_POST
@role_required(*EVERYONE)
def appointment_move(request, pk: int):
    appointment = _appointment_for(request, pk)
    form = MoveForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    try:
        appointment = lifecycle.appointment_move(
            actor=_actor(request),
            appointment=appointment,
            start=form.cleaned_data["start"],
            staff=form.cleaned_data.get("staff"),
        )
    except NotPermitted as exc:
        return _error(exc.message, 403)
    except ConflictError as exc:
        return _error(exc.message, 409)
    except InvalidRequest as exc:
        return _error(exc.message, 400)
    return JsonResponse({"id": appointment.pk, "message": _("Appointment moved.")})


@require_POST
@role_required(*EVERYONE)
def appointment_status(request, pk: int):
    appointment = _appointment_for(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    change = STATUS_ACTIONS[form.cleaned_data["action"]]
    extra = {"reason": form.cleaned_data["reason"]} if change in REASONED else {}
    try:
        appointment = change(actor=_actor(request), appointment=appointment, **extra)
    except NotPermitted as exc:
        return _error(exc.message, 403)
    except InvalidRequest as exc:
        return _error(exc.message, 400)
    return JsonResponse({"id": appointment.pk, "status": appointment.status, "message": _("Saved.")})


@require_GET
@role_required(*EVERYONE)
def free_slots(request):
    """The next five free slots of a service across all staff (or the user's own column)."""
    try:
        service = Service.objects.get(pk=int(request.GET.get("service", "")), active=True)
    except (ValueError, Service.DoesNotExist):
        return _error(_("Please choose a service."), 400)
    own = own_resource_ids(request.user)
    slots = cal.next_free_slots(service=service, time_zone=request.tenant.time_zone, resource_ids=own)
    names = dict(Resource.objects.values_list("pk", "name"))
    staff_ids = set(Resource.objects.filter(kind=ResourceKind.STAFF).values_list("pk", flat=True))
    return JsonResponse(
        {
            "slots": [
                {
                    "start": slot.start.isoformat(),
                    "date": slot.start.date().isoformat(),
                    "time": slot.start.strftime("%H:%M"),
                    "staff": [
                        {"id": pk, "name": names[pk]}
                        for pk in slot.resources
                        if pk in staff_ids and (own is None or pk in own)
                    ],
                }
                for slot in slots
            ]
        }
    )


def _appointment_for(request, pk: int) -> Appointment:
    """The appointment, if this user may work on it (staff: only those in their own column)."""
    appointment = get_object_or_404(Appointment.objects.exclude(status=AppointmentStatus.HELD), pk=pk)
    own = own_resource_ids(request.user)
    if own is not None and not appointment.allocations.filter(resource_id__in=own).exists():
        raise Http404
    return appointment


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _form_errors(form) -> JsonResponse:
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    first = next(iter(errors.values()))[0]
    body = {"detail": first, "errors": errors}
    if getattr(form, "ambiguous_offsets", None):
        body["offsets"] = list(form.ambiguous_offsets)  # the dialog offers both
    return JsonResponse(body, status=400)
