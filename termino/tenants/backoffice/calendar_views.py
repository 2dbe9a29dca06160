"""The calendar: day, week and month, columns by staff or by room; booking by phone, dragging to move,
resize, book or block time, and the life cycle of an appointment.

The page is a shell for the vendored EventCalendar component (static/backoffice/vendor/): calendar.js
loads what the visible days hold from `events_feed` and posts every change as form data to the small JSON
views below, which call the scheduling lifecycle. A 409 carries the reason (who holds the time), the
component puts the appointment back and the page shows it. Times travel as the business's wall-clock time
("2027-01-18T10:00:00", no offset): the component shows them as they are, whatever the device's zone.
Staff members work only in their own column: every action checks the resources it touches.
"""

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from termino.shared import phones, timeutils
from termino.shared.errors import ConflictError, InvalidRequest, NotPermitted, http_status
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling import calendar as cal
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import (
    ACTIVE_STATUSES,
    SERIES_MAX_OCCURRENCES,
    VISIT_MAX_SERVICES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Closure,
    Resource,
    ResourceKind,
    Service,
)

from .calendar_forms import (
    REASONED,
    STATUS_ACTIONS,
    BlockForm,
    BookForm,
    CalendarQuery,
    FeedQuery,
    MoveForm,
    ResizeForm,
    StatusForm,
)
from .permissions import EVERYONE, own_resource_ids, role_required


@require_GET
@role_required(*EVERYONE)
def calendar_page(request):
    zone = ZoneInfo(request.tenant.time_zone)
    query = CalendarQuery(request.GET)
    params = query.cleaned_data if query.is_valid() else {}
    own = own_resource_ids(request.user)
    by = params.get("by") or ResourceKind.STAFF
    if own is not None:
        by = ResourceKind.STAFF  # a staff member has one column: their own
    resources = _columns(by, own)
    chosen = params.get("resource") if params.get("resource") in {r.pk for r in resources} else None
    now = timeutils.now()
    first, last = cal.visible_hours()
    services = list(Service.objects.filter(active=True).prefetch_related("resources"))
    staff = cal.calendar_resources(kind=ResourceKind.STAFF, resource_ids=own)
    rooms = cal.calendar_resources(kind=ResourceKind.ROOM) if own is None else []
    customer = None
    if params.get("customer"):
        customer = Customer.objects.filter(pk=params["customer"], processing_restricted=False).first()
    config = {
        "view": params.get("view") or "day",
        "by": by,
        "resource": chosen,
        "date": (params.get("date") or timeutils.today(zone)).isoformat(),
        # The server's clock and the business's offset now: the current-time line follows them, not the
        # device's clock or zone.
        "now": now.isoformat(),
        "offset": int(timeutils.localtime(now, zone).utcoffset().total_seconds() // 60),
        "locale": request.LANGUAGE_CODE,
        "slotMin": f"{first // 60:02d}:00",
        "slotMax": f"{last // 60:02d}:00" if last < 24 * 60 else "24:00",
        "resources": [{"id": r.pk, "title": r.name} for r in resources],
        "editable": own is None or bool(own),
        "customer": {"id": customer.pk, "name": str(customer)} if customer else None,
        "urls": {
            "feed": reverse("calendar:events"),
            "book": reverse("calendar:book"),
            "block": reverse("calendar:block"),
            "free": reverse("calendar:free"),
            "appointment": reverse("calendar:move", args=[0]).removesuffix("0/move/"),
            "blocks": reverse("calendar:unblock", args=[0]).removesuffix("0/delete/"),
            "seriesPreview": reverse("calendar:series_preview"),
            "seriesBook": reverse("calendar:series_book"),
            "visitBook": reverse("calendar:visit_book"),
        },
    }
    context = {
        "section": "calendar",
        "config": config,
        "view": config["view"],
        "by": by,
        "resources": resources,
        "chosen": chosen,
        "customer": customer,
        "is_manager": own is None,
        "has_column": own is None or bool(own),
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
        "staff": staff,
        "rooms": rooms,
        "block_resources": staff + rooms,
        "time_zone": request.tenant.time_zone,
        "repeat_weekdays": list(enumerate(WEEKDAYS_ABBR.values())),
        "series_max": SERIES_MAX_OCCURRENCES,
        "visit_max": VISIT_MAX_SERVICES,
    }
    return render(request, "backoffice/calendar/page.html", context)


def _columns(kind: str, own: list[int] | None) -> list[Resource]:
    """The columns this user may see: everyone's of one kind, or a staff member's own."""
    return cal.calendar_resources(kind=kind, resource_ids=own)


@require_GET
@role_required(*EVERYONE)
def events_feed(request):
    """What the visible days hold: appointments, blocked time and working hours, as the component reads
    them. Range in the business's local days (`end` exclusive); only columns this user may see."""
    query = FeedQuery(request.GET)
    if not query.is_valid():
        return _form_errors(query)
    params = query.cleaned_data
    own = own_resource_ids(request.user)
    kind = ResourceKind.STAFF if own is not None else (params.get("by") or ResourceKind.STAFF)
    resources = _columns(kind, own)
    if params.get("resource"):
        resources = [r for r in resources if r.pk == params["resource"]]
    zone = ZoneInfo(request.tenant.time_zone)
    first_day, last_day = params["start"], params["end"] - timedelta(days=1)
    feed = cal.calendar_feed(
        first_day=first_day, last_day=last_day, resources=resources, time_zone=request.tenant.time_zone
    )
    shown = {r.pk for r in resources}
    region = request.tenant.country or "DE"
    now = timeutils.now()
    visits = cal.visit_parts(
        visit_ids={e.appointment.visit_id for e in feed.entries if e.appointment.visit_id}, zone=zone
    )
    events = [_appointment_event(entry, shown, zone, region, now, visits) for entry in feed.entries]
    since, until = timeutils.local_day_bounds(first_day, last_day, zone)
    for closure in feed.closures:
        events.append(_closure_event(closure, shown, zone, since, until))
    for (pk, day), spans in feed.open.items():
        events.extend(_off_hours(pk, day, spans))
    return JsonResponse({"events": events})


def _wall(moment: datetime, zone: ZoneInfo) -> str:
    return timeutils.localtime(moment, zone).strftime("%Y-%m-%dT%H:%M:%S")


def _appointment_event(
    entry, shown: set[int], zone: ZoneInfo, region: str, now: datetime, visits: dict[int, list]
) -> dict:
    a = entry.appointment
    start, end = timeutils.localtime(a.start, zone), timeutils.localtime(a.end, zone)
    minutes = int(timeutils.elapsed(a.start, a.end).total_seconds() // 60)
    shown_end = _wall(a.end, zone)
    if shown_end <= _wall(a.start, zone):
        # Across the hour the clocks go back the wall clock ends before it starts: drawn as long as it is.
        shown_end = (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S")  # wall-clock sum
    staff = next((r.pk for r in entry.resources if r.kind == ResourceKind.STAFF), None)
    customer = a.customer
    classes, styles, processing = ["cal-appt", f"status-{a.status}"], [f"--c: {a.service.colour}"], None
    gap = cal.processing_gap(entry)
    if gap is not None and a.end > a.start:
        # Drawn as a pale band where the staff member is free for others, in shares of the event's height.
        length = (a.end - a.start).total_seconds()
        share = [max(0.0, min(100.0, (moment - a.start).total_seconds() / length * 100)) for moment in gap]
        classes.append("cal-processing")
        styles += [f"--gap-from: {share[0]:.2f}%", f"--gap-to: {share[1]:.2f}%"]
        processing = {"from": timeutils.wall_time(gap[0], zone), "until": timeutils.wall_time(gap[1], zone)}
    return {
        "id": str(a.pk),
        "resourceIds": [r.pk for r in entry.resources if r.pk in shown],
        "start": _wall(a.start, zone),
        "end": shown_end,
        "title": str(customer) if customer else _("No customer"),
        "classNames": classes,
        "styles": styles,
        "editable": a.status in ACTIVE_STATUSES,
        "extendedProps": {
            "kind": "appointment",
            "service": a.service.name,
            "status": a.status,
            "statusLabel": a.get_status_display(),
            "begun": a.start <= now,  # no-show and completed are offered once it has begun
            "date": start.date().isoformat(),
            "from": timeutils.wall_time(a.start, zone),
            "until": timeutils.wall_time(a.end, zone),
            "endDate": end.date().isoformat(),
            "minutes": minutes,
            "customer": str(customer) if customer else "",
            "customerUrl": reverse("customers:detail", args=[customer.pk]) if customer else "",
            "phone": phones.display(customer.phone, region) if customer else "",
            "email": customer.email if customer else "",
            "staff": staff,
            "resources": ", ".join(r.name for r in entry.resources),
            "notes": a.notes,
            "source": a.get_source_display(),
            "series": a.series_id,
            "visit": a.visit_id,
            "visitParts": visits.get(a.visit_id, []),
            "processing": processing,  # {from, until}: the staff member is free for others then
        },
    }


def _closure_event(closure: Closure, shown: set[int], zone, since, until) -> dict:
    start, end = max(closure.start, since), min(closure.end, until)
    event = {
        "id": f"closure-{closure.pk}",
        "resourceIds": [closure.resource_id] if closure.resource_id else sorted(shown),
        "start": _wall(start, zone),
        "end": _wall(end, zone),
        "title": closure.reason or _("Closed"),
        "editable": False,
        "extendedProps": {"kind": "closure"},
    }
    if closure.resource_id is None or closure.holiday_date is not None:
        # The business is closed (set in the settings): shaded behind the columns.
        event.update(display="background", classNames=["cal-closed"])
        return event
    event["classNames"] = ["cal-block"]
    event["extendedProps"].update(
        kind="block",
        closure=closure.pk,
        reason=closure.reason,
        date=timeutils.local_date(closure.start, zone).isoformat(),
        endDate=timeutils.local_date(closure.end, zone).isoformat(),
        **{"from": timeutils.wall_time(closure.start, zone), "until": timeutils.wall_time(closure.end, zone)},
    )
    return event


def _off_hours(pk: int, day: date, spans: list[tuple[int, int]]) -> list[dict]:
    """Shading outside working time: the gaps between the open spans of one column and day."""
    events, cursor = [], 0
    for first, last in [*spans, (24 * 60, 24 * 60)]:
        if first > cursor:
            events.append(
                {
                    "resourceIds": [pk],
                    "start": _day_minute(day, cursor),
                    "end": _day_minute(day, first),
                    "display": "background",
                    "classNames": ["cal-off"],
                    "extendedProps": {"kind": "off"},
                }
            )
        cursor = max(cursor, last)
    return events


def _day_minute(day: date, minute: int) -> str:
    day += timedelta(days=minute // (24 * 60))
    minute %= 24 * 60
    return f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00"


def booking_customer(request, data: dict) -> Customer:
    """The customer chosen in the booking dialog, or a new one from its fields (inside the caller's
    transaction, so a refused booking leaves no customer behind)."""
    return data.get("customer") or crm.customer_create(
        first_name=data["first_name"].strip(),
        last_name=data["last_name"].strip(),
        email=data["email"],
        phone=data["phone"],
        region=request.tenant.country or "DE",
        created_by=request.user,
    )


def _actor(request) -> Actor:
    return Actor(source=AppointmentSource.BACKOFFICE, user=request.user)


def errors_as_json(view):
    """What the business logic refuses (permission 403, collision 409, impossible 400) as the JSON the
    calendar shows: `{"detail": message}`. Raised inside a transaction, it was rolled back first."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotPermitted, ConflictError, InvalidRequest) as exc:
            return _error(exc.message, http_status(exc))

    return wrapper


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def appointment_book(request):
    form = BookForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    data = form.cleaned_data
    with transaction.atomic():
        customer = booking_customer(request, data)
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
    return JsonResponse({"id": appointment.pk, "message": _("Appointment booked.")}, status=201)


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def appointment_move(request, pk: int):
    appointment = _appointment_for(request, pk)
    form = MoveForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    appointment = lifecycle.appointment_move(
        actor=_actor(request),
        appointment=appointment,
        start=form.cleaned_data["start"],
        staff=form.cleaned_data.get("staff"),
    )
    return JsonResponse({"id": appointment.pk, "message": _("Appointment moved.")})


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def appointment_resize(request, pk: int):
    """A new length (the start stays): the lower edge dragged, or the dialog's length field."""
    appointment = _appointment_for(request, pk)
    form = ResizeForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    appointment = lifecycle.appointment_resize(
        actor=_actor(request), appointment=appointment, minutes=form.cleaned_data["minutes"]
    )
    return JsonResponse({"id": appointment.pk, "message": _("Appointment length changed.")})


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def time_block(request):
    """Block a staff member's or room's free time (an absence with a reason); staff only their own."""
    form = BlockForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    data = form.cleaned_data
    own = own_resource_ids(request.user)
    if own is not None and data["resource"].pk not in own:
        return _error(_("You can only block time in your own calendar."), 403)
    closure = scheduling.resource_block(
        resource=data["resource"], start=data["start"], end=data["end"], reason=data["reason"]
    )
    return JsonResponse({"id": closure.pk, "message": _("Time blocked.")}, status=201)


@require_POST
@role_required(*EVERYONE)
def time_unblock(request, pk: int):
    """Free blocked time again (only a staff member's or room's own, not the business's closures)."""
    own = own_resource_ids(request.user)
    blocks = Closure.objects.filter(resource__isnull=False, holiday_date__isnull=True)
    if own is not None:
        blocks = blocks.filter(resource_id__in=own)
    scheduling.closure_delete(closure=get_object_or_404(blocks, pk=pk))
    return JsonResponse({"id": pk, "message": _("The time is free again.")})


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def appointment_status(request, pk: int):
    appointment = _appointment_for(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    change = STATUS_ACTIONS[form.cleaned_data["action"]]
    extra = {"reason": form.cleaned_data["reason"]} if change in REASONED else {}
    appointment = change(actor=_actor(request), appointment=appointment, **extra)
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
