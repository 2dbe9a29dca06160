"""The waitlist in the backoffice: per service, who waits for what, the free times that suit each of them
(offer one by hand), open offers, and the rules (how many customers each free time goes to, how long)."""

from datetime import datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from termino.shared import timeutils
from termino.shared.errors import ConflictError, InvalidRequest, NotPermitted
from termino.tenants.waitlist import selectors, services
from termino.tenants.waitlist.models import DayPart, Entry, WaitlistSettings

from .permissions import EVERYONE, MANAGERS, role_required

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _wish(entry: Entry, zone) -> str:
    """ "Mon, Wed · Morning · 18.01.2027–31.01.2027", or "any time"."""
    parts = []
    if entry.weekdays:
        parts.append(", ".join(pgettext("weekday", WEEKDAYS[d]) for d in entry.weekdays))
    if entry.day_parts:
        parts.append(", ".join(str(DayPart(p).label) for p in entry.day_parts))
    if entry.date_from or entry.date_to:
        first = date_format(entry.date_from, "SHORT_DATE_FORMAT") if entry.date_from else "…"
        last = date_format(entry.date_to, "SHORT_DATE_FORMAT") if entry.date_to else "…"
        parts.append(f"{first}–{last}")
    return " · ".join(parts) or _("any time")


@role_required(*EVERYONE)
def waitlist_index(request):
    zone = timeutils.zone(request.tenant.time_zone)
    lists = selectors.waitlist_by_service()
    for service_list in lists:
        for view in service_list.entries:
            view.wish = _wish(view.entry, zone)
            view.match_times = [
                {
                    "start": slot.start.isoformat(),
                    "label": f"{date_format(timeutils.localtime(slot.start, zone), 'D')} "
                    f"{date_format(timeutils.localtime(slot.start, zone), 'SHORT_DATE_FORMAT')}, "
                    f"{timeutils.wall_time(slot.start, zone)}",
                }
                for slot in view.matches
            ]
    return render(
        request,
        "backoffice/waitlist/index.html",
        {
            "section": "waitlist",
            "lists": lists,
            "rules": WaitlistSettings.current(),
            "can_manage": request.user.role in MANAGERS,
        },
    )


@require_POST
@role_required(*EVERYONE)
def waitlist_offer(request, pk: int):
    entry = get_object_or_404(Entry, pk=pk)
    try:
        start = datetime.fromisoformat(request.POST.get("start", "")[:40])
        if start.tzinfo is None:
            raise ValueError(start)
    except ValueError:
        messages.error(request, _("Please choose one of the free times shown."))
        return redirect("waitlist:index")
    try:
        services.offer_by_hand(entry=entry, start=start, resource_id=None, user=request.user)
    except (InvalidRequest, ConflictError, NotPermitted) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The time has been offered to %(customer)s.") % {"customer": str(entry.customer)}
        )
    return redirect("waitlist:index")


@require_POST
@role_required(*EVERYONE)
def waitlist_remove(request, pk: int):
    entry = get_object_or_404(Entry, pk=pk)
    services.entry_remove(entry=entry)
    messages.success(
        request, _("%(customer)s is no longer on the waitlist.") % {"customer": str(entry.customer)}
    )
    return redirect("waitlist:index")


@require_POST
@role_required(*MANAGERS)
def waitlist_settings(request):
    try:
        count, minutes = int(request.POST.get("offer_count", "")), int(request.POST.get("offer_minutes", ""))
        if not (1 <= count <= 20 and 10 <= minutes <= 7 * 24 * 60):
            raise ValueError(count)
    except ValueError:
        messages.error(
            request,
            _("Offer each free time to 1 to 20 customers, for 10 minutes to 7 days (10080 minutes)."),
        )
        return redirect("waitlist:index")
    services.settings_update(offer_count=count, offer_minutes=minutes)
    messages.success(request, _("The waitlist rules have been saved."))
    return redirect("waitlist:index")
