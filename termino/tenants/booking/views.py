import json
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.static import serve

from termino.platform.tenancy.routing import primary_url
from termino.tenants.business.models import BusinessSettings
from termino.tenants.scheduling.ics import appointment_ics, series_ics

from . import selectors, services
from .framing import frame_ancestors

API_BASE = "/api/public/v1/"


def _context(request, **extra) -> dict:
    return {
        "settings": BusinessSettings.current(),
        "embedded": request.GET.get("embed") == "1",
        "api_base": API_BASE,
        **extra,
    }


@require_GET
@frame_ancestors
def booking_page(request):
    """The booking page for the business's customers: service → staff → day → time → details."""
    if not request.tenant.email_confirmed:
        # Not before the owner has confirmed the signup address (the public API refuses bookings too).
        return TemplateResponse(request, "booking/not_open.html", _context(request))
    return TemplateResponse(
        request, "booking/page.html", _context(request, services=selectors.bookable_services())
    )


@require_GET
@frame_ancestors
def manage_page(request, token: str):
    """Where the customer's manage link leads: see, reschedule or cancel the booking."""
    try:
        appointment = services.booking_by_token(token)
    except LookupError as exc:
        raise Http404 from exc
    return TemplateResponse(
        request, "booking/manage.html", _context(request, token=token, appointment=appointment)
    )


@require_GET
def booking_ics(request, token: str):
    try:
        appointment = services.booking_by_token(token)
    except LookupError as exc:
        raise Http404 from exc
    if appointment.series_id is not None:
        # A course booked online: every appointment of it in one file (cancelled ones marked so).
        body = series_ics(series=appointment.series, tenant=request.tenant)
        name = f"termine-{appointment.series_id}.ics"
    else:
        body = appointment_ics(
            appointment=appointment,
            tenant=request.tenant,
            manage_url=primary_url(request.tenant, f"/book/manage/{token}/"),
        )
        name = f"termin-{appointment.pk}.ics"
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# Linux's limits (ext4, xfs, tmpfs): a longer name is no file, and the filesystem answers a question
# about it with "File name too long" (an OSError, which `serve` passes on as a 500), not "no such file".
NAME_MAX, PATH_MAX = 255, 4096


@require_GET
def media_file(request, schema: str, path: str):
    """A business's uploaded file (its logo), only on its own host. Production serves /media/ from nginx."""
    root = Path(settings.MEDIA_ROOT) / schema
    if schema != request.tenant.schema_name or not _may_name_a_file(root, path):
        raise Http404
    return serve(request, path, document_root=root)


def _may_name_a_file(root: Path, path: str) -> bool:
    return (
        "\x00" not in path
        and all(len(name.encode()) <= NAME_MAX for name in path.split("/"))
        and len(str(root / path).encode()) < PATH_MAX
    )


def _not_allowed_texts(tenant) -> dict[str, dict[str, str]]:
    """What embed.js shows instead of a frame the browser would refuse, in German and English (it picks
    by the website's language): a word for visitors, and what the owner has to do."""
    texts = {}
    for language in ("de", "en"):
        with translation.override(language):
            texts[language] = {
                "title": _("Online booking is not switched on for this website yet."),
                "owner": _(
                    "For the owner of %(business)s: add this website's address, %(origin)s, in your "
                    "Termino backoffice under Settings → Booking rules → Websites allowed to show your "
                    "booking page."
                )
                % {"business": tenant.name, "origin": "{origin}"},
                "link": _("Book on our booking page instead"),
            }
    return texts


@require_GET
def embed_js(request):
    """The loader a business puts on its own website: inline iframe or a button opening a modal."""
    response = TemplateResponse(
        request,
        "booking/embed.js",
        # JSON-encoded: URLs and names come from the database; this keeps them plain JS literals.
        {
            "book_url_json": json.dumps(primary_url(request.tenant, "/book/?embed=1")),
            "page_url_json": json.dumps(primary_url(request.tenant, "/book/")),
            "check_url_json": json.dumps(primary_url(request.tenant, "/book/embed-check/")),
            "texts_json": json.dumps(_not_allowed_texts(request.tenant)),
        },
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def embed_check(request):
    """Whether the website `origin` may frame the booking page (embed.js asks before it makes the frame).

    A browser that frame-ancestors refuses shows a grey broken box and tells the framing page nothing, so
    the loader asks first and shows a readable notice instead. The answer is no secret (the booking
    page's CSP header lists the same origins), hence readable from any origin; it is never cached, so
    an origin the owner has just added counts at once.
    """
    origin = request.GET.get("origin", "").strip().rstrip("/")[:300]
    own = primary_url(request.tenant, "").rstrip("/")
    allowed = bool(origin) and (origin == own or origin in BusinessSettings.current().origins)
    response = JsonResponse({"allowed": allowed})
    response["Access-Control-Allow-Origin"] = "*"
    return response
