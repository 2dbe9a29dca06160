"""The calendar's appointment series: the booking dialog's "Repeat" section lists each date as free or
taken (with the reason and the nearest free alternative) before anything is stored, then books the chosen
dates all at once; an occurrence's dialog moves or cancels it or it and all following ones.

Thin: the work is in `scheduling.series` and `scheduling.series_selectors`.
"""

from django import forms
from django.db import transaction
from django.http import JsonResponse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from termino.shared import timeutils
from termino.tenants.scheduling import series
from termino.tenants.scheduling.models import Resource
from termino.tenants.scheduling.series_selectors import occurrences_check, series_needs

from .calendar_forms import MoveForm, _WhenForm
from .calendar_series_forms import RepeatForm, SeriesBookForm, SeriesCancelForm
from .calendar_views import _actor, _appointment_for, _error, _form_errors, booking_customer, errors_as_json
from .permissions import EVERYONE, role_required


class _PreviewForm(_WhenForm):
    """The booking form's fields a preview needs (no customer yet)."""

    service = SeriesBookForm.base_fields["service"]
    staff = SeriesBookForm.base_fields["staff"]
    room = SeriesBookForm.base_fields["room"]


def _repeat(request, when) -> tuple[RepeatForm, object]:
    repeat = RepeatForm(request.POST)
    if not repeat.is_valid():
        return repeat, None
    data = when.cleaned_data
    local = timeutils.localtime(data["start"], when.zone)
    return repeat, repeat.recurrence(first_date=local.date(), wall=local.time())


def _occurrence_json(check, zone, names) -> dict:
    local = timeutils.localtime(check.start, zone)
    answer = {
        "start": local.isoformat(),
        "date": local.date().isoformat(),
        "time": timeutils.wall_time(check.start, zone),
        "free": check.free,
        "reason": check.reason,
        "alternative": None,
    }
    if check.alternative is not None:
        alternative = timeutils.localtime(check.alternative.start, zone)
        answer["alternative"] = {
            "start": alternative.isoformat(),
            "date": alternative.date().isoformat(),
            "time": timeutils.wall_time(check.alternative.start, zone),
            "staff": names.get(check.alternative.staff_id, ""),
        }
    return answer


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def series_preview(request):
    """Each date of the rule: free, or taken with the reason and the nearest free alternative."""
    when = _PreviewForm(request.POST, time_zone=request.tenant.time_zone)
    if not when.is_valid():
        return _form_errors(when)
    repeat, recurrence = _repeat(request, when)
    if recurrence is None:
        return _form_errors(repeat)
    data = when.cleaned_data
    staff = series.series_staff(user=request.user, staff=data.get("staff"))
    needs = series_needs(service=data["service"], staff=staff, room=data.get("room"))
    checks = occurrences_check(needs=needs, starts=recurrence.starts(when.zone), zone=when.zone)
    names = dict(Resource.objects.values_list("pk", "name"))
    return JsonResponse({"occurrences": [_occurrence_json(c, when.zone, names) for c in checks]})


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def series_book(request):
    """Book the dates chosen in the dialog (or, if none were checked, every date of the rule) at once."""
    form = SeriesBookForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    repeat, recurrence = _repeat(request, form)
    if recurrence is None:
        return _form_errors(repeat)
    try:
        starts = form.chosen_starts()
    except forms.ValidationError as exc:
        return _error(exc.messages[0], 400)
    data = form.cleaned_data
    with transaction.atomic():
        customer = booking_customer(request, data)
        made = series.series_book(
            actor=_actor(request),
            service=data["service"],
            recurrence=recurrence,
            zone=form.zone,
            staff=data.get("staff"),
            room=data.get("room"),
            customer=customer,
            notes=data["notes"],
            starts=starts,
        )
    count = made.appointments.count()
    message = ngettext("%(count)d appointment booked.", "%(count)d appointments booked.", count) % {
        "count": count
    }
    return JsonResponse({"id": made.pk, "count": count, "message": message}, status=201)


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def series_move(request, pk: int):
    """Move this occurrence and all following ones (the same number of days, the same new time)."""
    appointment = _appointment_for(request, pk)
    form = MoveForm(request.POST, time_zone=request.tenant.time_zone)
    if not form.is_valid():
        return _form_errors(form)
    moved = series.series_move(
        actor=_actor(request),
        appointment=appointment,
        start=form.cleaned_data["start"],
        zone=form.zone,
        staff=form.cleaned_data.get("staff"),
        scope=series.FOLLOWING,
    )
    message = ngettext("%(count)d appointment moved.", "%(count)d appointments moved.", len(moved)) % {
        "count": len(moved)
    }
    return JsonResponse({"id": appointment.pk, "message": message})


@require_POST
@role_required(*EVERYONE)
@errors_as_json
def series_cancel(request, pk: int):
    """Cancel this occurrence and all following ones; the customer gets one message."""
    appointment = _appointment_for(request, pk)
    form = SeriesCancelForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    cancelled = series.series_cancel(
        actor=_actor(request),
        appointment=appointment,
        scope=series.FOLLOWING,
        reason=form.cleaned_data["reason"],
    )
    message = ngettext(
        "%(count)d appointment cancelled.", "%(count)d appointments cancelled.", len(cancelled)
    ) % {"count": len(cancelled)}
    return JsonResponse({"id": appointment.pk, "message": message})
