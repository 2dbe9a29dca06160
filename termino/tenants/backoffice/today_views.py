"""The start page ("Today"): the day's appointments and, for a new business, the first-run checklist."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.shared import timeutils
from termino.tenants.accounts import selectors as accounts_selectors
from termino.tenants.accounts import services as accounts_services
from termino.tenants.business.services import TooManyOrigins, embed_origin_add
from termino.tenants.scheduling.models import Service

from .checklist import checklist_for, checklist_state
from .models import ChecklistDismissal
from .permissions import EVERYONE, MANAGERS, role_required
from .settings_general_forms import parse_origin


@role_required(*EVERYONE)
def today(request):
    context = accounts_selectors.dashboard(user=request.user, tenant=request.tenant)
    context.update(section="today", checklist=checklist_for(user=request.user, tenant=request.tenant))
    return render(request, "backoffice/today.html", context)


def _back_to(step: str):
    return redirect(reverse("today:index") + f"#step-{step}")


@require_POST
@role_required(*MANAGERS)
def checklist_myself(request):
    """ "I work here myself": the person's own calendar column, offering every active service."""
    if request.POST.get("myself") != "on":
        return redirect("people:new")
    column = accounts_services.user_column_ensure(
        member=request.user, acting_user=request.user, services=Service.objects.filter(active=True)
    )
    messages.success(
        request, _("You appear in the calendar as “%(name)s” and do all services.") % {"name": column.name}
    )
    return _back_to("people")


@require_POST
@role_required(*MANAGERS)
def checklist_website(request):
    """The owner's website may show the booking page: its address becomes an allowed embedding origin."""
    address = request.POST.get("website", "").strip()
    if address and "://" not in address:
        address = f"https://{address}"  # people type "www.example.com"
    try:
        origin = parse_origin(address[:300])
        added = embed_origin_add(origin=origin)
    except ValueError:
        messages.error(
            request,
            _("“%(address)s” is not a website address. Write it like https://www.example.com.")
            % {"address": request.POST.get("website", "")[:100]},
        )
    except TooManyOrigins:
        messages.error(request, _("At most 20 websites, please."))
    else:
        if added:
            messages.success(request, _("%(origin)s may now show your booking page.") % {"origin": origin})
        else:
            messages.info(request, _("%(origin)s may show your booking page already.") % {"origin": origin})
    return _back_to("website")


@require_POST
@role_required(*MANAGERS)
def checklist_dismiss(request):
    if not checklist_state(user=request.user, tenant=request.tenant).complete:
        messages.error(request, _("The checklist can be put away once its steps are done."))
        return redirect("today:index")
    ChecklistDismissal.objects.get_or_create(
        id=1, defaults={"dismissed_at": timeutils.now(), "dismissed_by": request.user}
    )
    return redirect("today:index")
