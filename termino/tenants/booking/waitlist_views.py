"""Where a waitlist offer's link leads: the offered time, "book it" and "not this time" (waitlist.js)."""

from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from termino.shared import timeutils
from termino.tenants.waitlist import services as waitlist

from .framing import frame_ancestors
from .views import _context


@require_GET
@frame_ancestors
def offer_page(request, token: str):
    try:
        offer = waitlist.offer_by_token(token)
    except LookupError as exc:
        raise Http404 from exc
    zone = timeutils.zone(request.tenant.time_zone)
    german = translation.get_language().startswith("de")
    start, expires = timeutils.localtime(offer.start, zone), timeutils.localtime(offer.expires_at, zone)
    return TemplateResponse(
        request,
        "booking/waitlist_offer.html",
        _context(
            request,
            token=token,
            offer=offer,
            day=date_format(start, "l, j. F Y" if german else "l, j F Y"),
            time=f"{timeutils.wall_time(offer.start, zone)}–{timeutils.wall_time(offer.end, zone)}",
            expires_day=date_format(expires, "l, j. F Y" if german else "l, j F Y"),
            expires_time=timeutils.wall_time(offer.expires_at, zone),
            is_open=offer.status == "open" and offer.expires_at > timeutils.now(),
        ),
    )
