"""Calendar sync pages: each person's own feed and CalDAV calendar (My calendar), and the business's feed
and privacy choice with every staff member's connection state (owners and managers).

The feed URL is shown from the encrypted token; CalDAV passwords are never shown again, only the state.
"""

from django.contrib import messages
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.platform.tenancy.routing import primary_url
from termino.tenants.calendars import selectors, services
from termino.tenants.calendars.tasks import pull

from .calendars_forms import CalDavConnectForm, FeedPrivacyForm
from .permissions import EVERYONE, MANAGERS, role_required


def _own_resource(user):
    resource = getattr(user, "resource", None)
    return resource if resource is not None and resource.active else None


def _feed_url(request, row) -> str:
    if row is None:
        return ""
    return primary_url(request.tenant, f"/calendar/{selectors.feed_token_text(row)}.ics")


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1] if url else ""


@role_required(*EVERYONE)
def mine(request):
    resource = _own_resource(request.user)
    conn = selectors.connection_of(resource)
    form = CalDavConnectForm(
        request.POST or None, initial={"url": conn.url, "username": conn.username} if conn else None
    )
    if request.method == "POST":
        if resource is None:
            raise Http404
        if form.is_valid():
            services.caldav_connect(resource=resource, **form.cleaned_data)
            messages.success(request, _("Calendar saved. Termino is connecting to it now."))
            return redirect("calendarsync:mine")
    feed_url = _feed_url(request, selectors.feed_token_live(resource=resource)) if resource else ""
    context = {
        "section": "account",
        "resource": resource,
        "connection": conn,
        "form": form,
        "feed_url": feed_url,
        "webcal_url": _webcal(feed_url),
    }
    return render(request, "backoffice/calendars/mine.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(*EVERYONE)
def my_feed_issue(request):
    resource = _own_resource(request.user)
    if resource is None:
        raise Http404
    services.feed_token_issue(resource=resource, user=request.user)
    messages.success(request, _("Your new subscription address is ready; the previous one no longer works."))
    return redirect("calendarsync:mine")


@require_POST
@role_required(*EVERYONE)
def my_feed_revoke(request):
    resource = _own_resource(request.user)
    if resource is None:
        raise Http404
    services.feed_token_revoke(resource=resource)
    messages.success(request, _("The subscription address no longer works."))
    return redirect("calendarsync:mine")


@require_POST
@role_required(*EVERYONE)
def caldav_sync_now(request):
    conn = selectors.connection_of(_own_resource(request.user))
    if conn is None:
        raise Http404
    pull.delay(schema_name=connection.schema_name, connection_id=conn.pk, on_demand=True)
    messages.success(request, _("Termino reads your calendar now (at most once a minute)."))
    return redirect("calendarsync:mine")


@require_POST
@role_required(*EVERYONE)
def caldav_disconnect(request):
    resource = _own_resource(request.user)
    if resource is None or not services.caldav_disconnect(resource=resource):
        raise Http404
    messages.success(request, _("The calendar is disconnected; its busy times no longer block you."))
    return redirect("calendarsync:mine")


@role_required(*MANAGERS)
def business(request):
    form = FeedPrivacyForm(
        request.POST or None, initial={"feed_detail": selectors.calendar_settings().feed_detail}
    )
    if request.method == "POST" and form.is_valid():
        services.calendar_settings_update(feed_detail=form.cleaned_data["feed_detail"])
        messages.success(request, _("Saved."))
        return redirect("calendarsync:business")
    feed_url = _feed_url(request, selectors.feed_token_live(resource=None))
    context = {
        "section": "settings",
        "tab": "calendars",
        "form": form,
        "feed_url": feed_url,
        "webcal_url": _webcal(feed_url),
        "connections": selectors.connections_overview(),
    }
    return render(request, "backoffice/calendars/business.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(*MANAGERS)
def business_feed_issue(request):
    services.feed_token_issue(resource=None, user=request.user)
    messages.success(request, _("The new subscription address is ready; the previous one no longer works."))
    return redirect("calendarsync:business")


@require_POST
@role_required(*MANAGERS)
def business_feed_revoke(request):
    services.feed_token_revoke(resource=None)
    messages.success(request, _("The subscription address no longer works."))
    return redirect("calendarsync:business")
