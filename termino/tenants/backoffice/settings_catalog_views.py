"""Catalogue settings: services, staff and rooms, weekly hours, closures and public holidays.

Owners and managers only. Thin views: forms validate, `scheduling.services` writes, `scheduling.selectors`
reads. An invalid form comes back with its errors and status 400, and nothing is stored.
"""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View

from termino.tenants.scheduling import selectors, services
from termino.tenants.scheduling.availability import interval_text
from termino.tenants.scheduling.models import Closure, Resource, ResourceKind, Service

from .permissions import MANAGERS, RoleRequiredMixin
from .settings_catalog_forms import (
    STATE_NAMES,
    ClosureForm,
    HolidayImportForm,
    ResourceForm,
    ServiceForm,
    WeeklyHoursForm,
)

TEMPLATES = "backoffice/settings/catalog/"


class CatalogView(RoleRequiredMixin, View):
    roles = MANAGERS
    tab = ""
    template_name = ""

    def render(self, context: dict, *, status: int = 200, template_name: str | None = None):
        context = {"section": "settings", "tab": self.tab, **context}
        return render(self.request, TEMPLATES + (template_name or self.template_name), context, status=status)


def _hours_text(intervals) -> str:
    return ", ".join(interval_text(opens, closes) for opens, closes in intervals)  # an end of 00:00 is 24:00


def _week(days) -> list[dict]:
    """Seven rows of (weekday name, intervals as text or empty when closed) for summaries."""
    return [{"name": WEEKDAYS[day], "text": _hours_text(intervals)} for day, intervals in enumerate(days)]


# --- Services ---------------------------------------------------------------------------------------------


class ServiceListView(CatalogView):
    tab = "services"
    template_name = "services.html"

    def get(self, request):
        rows = []
        for service in selectors.service_list():
            resources = list(service.resources.all())
            staff = [r for r in resources if r.kind == ResourceKind.STAFF]
            rooms = [r for r in resources if r.kind == ResourceKind.ROOM]
            problems = []
            unstaffed = service.active and not any(r.active for r in staff)
            if unstaffed:
                problems.append(_("Nobody does it yet, so customers cannot book it."))
            if service.active and service.requires_room and not any(r.active for r in rooms):
                problems.append(_("It needs a room, but no active room is ticked."))
            rows.append(
                {
                    "service": service,
                    "staff": staff,
                    "rooms": rooms,
                    "problems": problems,
                    "unstaffed": unstaffed,
                }
            )
        return self.render({"rows": rows})


class ServiceFormView(CatalogView):
    tab = "services"
    template_name = "service_form.html"

    def get_service(self, pk):
        return get_object_or_404(Service, pk=pk) if pk is not None else None

    def get(self, request, pk=None):
        service = self.get_service(pk)
        return self.show(ServiceForm(instance=service), service)

    def post(self, request, pk=None):
        service = self.get_service(pk)
        # The form works on a copy: a rejected input must not rename the page's title.
        form = ServiceForm(request.POST, instance=Service(pk=service.pk) if service else None)
        if not form.is_valid():
            return self.show(form, service, status=400)
        data = dict(form.cleaned_data)
        resources = data.pop("resources")
        if service is None:
            service = services.service_create(resources=resources, **data)
        else:
            service = services.service_update(service=service, resources=resources, **data)
        messages.success(request, _("“%(name)s” is saved.") % {"name": service.name})
        if service.active and not any(r.kind == ResourceKind.STAFF and r.active for r in resources):
            messages.warning(
                request,
                _("Nobody does “%(name)s” yet, so customers cannot book it: choose who does it.")
                % {"name": service.name},
            )
        return redirect("settings:services")

    def show(self, form, service, *, status=200):
        context = {"form": form, "service": service}
        if service is not None:
            context["appointment_count"] = selectors.service_appointment_count(service=service)
        return self.render(context, status=status)


class ServiceDeleteView(CatalogView):
    """GET asks for confirmation; POST deletes a service without appointments."""

    tab = "services"
    template_name = "service_delete.html"

    def get(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        return self.show(service)

    def post(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        try:
            services.service_delete(service=service)
        except services.SchedulingError as error:
            return self.show(service, error=error.message, status=400)
        messages.success(request, _("“%(name)s” is deleted.") % {"name": service.name})
        return redirect("settings:services")

    def show(self, service, *, error=None, status=200):
        count = selectors.service_appointment_count(service=service)
        return self.render({"service": service, "appointment_count": count, "error": error}, status=status)


class ServiceDeactivateView(CatalogView):
    tab = "services"

    def post(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        services.service_deactivate(service=service)
        messages.success(
            request,
            _("“%(name)s” is deactivated: it can no longer be booked; its appointments stay.")
            % {"name": service.name},
        )
        return redirect("settings:service_edit", pk=service.pk)


# --- Staff and rooms --------------------------------------------------------------------------------------


class ResourceListView(CatalogView):
    tab = "resources"
    template_name = "resources.html"

    def get(self, request):
        rooms = [r for r in selectors.resource_list() if r.kind == ResourceKind.ROOM]
        return self.render({"groups": [(ResourceKind.ROOM, ResourceKind.ROOM.label, rooms)]})


class StaffMovedView(CatalogView):
    """The old list of staff and rooms: staff members are on the People page now."""

    def get(self, request):
        return redirect("people:list")


class ResourceFormView(CatalogView):
    tab = "resources"
    template_name = "resource_form.html"

    def get_resource(self, pk):
        return get_object_or_404(Resource, pk=pk) if pk is not None else None

    def get(self, request, pk=None):
        resource = self.get_resource(pk)
        initial = {} if resource else {"kind": request.GET.get("kind", ResourceKind.STAFF), "active": True}
        return self.show(ResourceForm(instance=resource, initial=initial), resource)

    def post(self, request, pk=None):
        resource = self.get_resource(pk)
        copy = Resource(pk=resource.pk, user_id=resource.user_id) if resource else None
        form = ResourceForm(request.POST, instance=copy)
        if not form.is_valid():
            return self.show(form, resource, status=400)
        data = form.cleaned_data
        try:
            if resource is None:
                resource = services.resource_create(
                    kind=data["kind"], name=data["name"], services=data["services"], active=data["active"]
                )
            else:
                resource = services.resource_update(
                    resource=resource,
                    kind=data["kind"],
                    name=data["name"],
                    services=data["services"],
                    active=data["active"],
                )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
            return self.show(form, resource, status=400)
        messages.success(request, _("“%(name)s” is saved.") % {"name": resource.name})
        return redirect("settings:resources")

    def show(self, form, resource, *, status=200):
        return self.render({"form": form, "resource": resource}, status=status)


# --- Weekly hours ------------------------------------------------------------------------------------------


class BusinessHoursView(CatalogView):
    tab = "hours"
    template_name = "hours.html"

    def get(self, request):
        return self.show(WeeklyHoursForm(days=selectors.weekly_hours(resource=None)))

    def post(self, request):
        form = WeeklyHoursForm(request.POST)
        if not form.is_valid():
            return self.show(form, status=400)
        services.weekly_hours_replace(resource=None, intervals=form.intervals)
        messages.success(request, _("The opening hours are saved."))
        return redirect("settings:hours")

    def show(self, form, *, status=200):
        saved = selectors.weekly_hours(resource=None)
        return self.render({"form": form, "closed_all_week": not any(saved)}, status=status)


class ResourceHoursView(CatalogView):
    tab = "resources"
    template_name = "resource_hours.html"

    def get(self, request, pk):
        resource = get_object_or_404(Resource, pk=pk)
        form = WeeklyHoursForm(days=selectors.weekly_hours(resource=resource), for_resource=True)
        return self.show(form, resource)

    def post(self, request, pk):
        resource = get_object_or_404(Resource, pk=pk)
        form = WeeklyHoursForm(request.POST, for_resource=True)
        if not form.is_valid():
            return self.show(form, resource, status=400)
        services.weekly_hours_replace(resource=resource, intervals=form.intervals)
        messages.success(request, _("The working hours of %(name)s are saved.") % {"name": resource.name})
        return redirect("settings:resource_hours", pk=resource.pk)

    def show(self, form, resource, *, status=200):
        opening = selectors.weekly_hours(resource=None)
        context = {
            "form": form,
            "resource": resource,
            "opening_hours": _week(opening),
            "bookable": _week(selectors.bookable_hours(resource=resource)),
            "closed_all_week": not any(opening),
        }
        return self.render(context, status=status)


# --- Closures and public holidays ------------------------------------------------------------------------


def describe_period(start, end, zone: ZoneInfo) -> str:
    """A closure's time as people say it: whole days as dates only, otherwise with times."""
    start, end = start.astimezone(zone), end.astimezone(zone)

    def day(value):
        return f"{date_format(value, 'D')} {date_format(value, 'SHORT_DATE_FORMAT')}"

    if start.time() == time.min and end.time() == time.min:
        last = end.date() - timedelta(days=1)  # date arithmetic: the day before the closing midnight
        return day(start.date()) if last == start.date() else f"{day(start.date())} – {day(last)}"
    if start.date() == end.date():
        return f"{day(start.date())}, {start:%H:%M}–{end:%H:%M}"
    return f"{day(start.date())} {start:%H:%M} – {day(end.date())} {end:%H:%M}"


class ClosureListView(CatalogView):
    """The list, the form for a new closure (POST here) and the holiday import (its own URL)."""

    tab = "closures"
    template_name = "closures.html"

    def get(self, request):
        return self.show()

    def post(self, request):
        form = ClosureForm(request.POST, time_zone=request.tenant.time_zone)
        if not form.is_valid():
            return self.show(closure_form=form, status=400)
        data = form.cleaned_data
        try:
            services.closure_create(
                resource=data["resource"], start=data["start"], end=data["end"], reason=data["reason"]
            )
        except services.SchedulingError as error:
            form.add_error(None, error.message)
            return self.show(closure_form=form, status=400)
        messages.success(request, _("The closure is saved."))
        return redirect("settings:closures")

    def show(self, *, closure_form=None, import_form=None, status=200):
        request = self.request
        zone = ZoneInfo(request.tenant.time_zone)
        show_all = request.GET.get("past") == "all"
        upcoming, past, past_total = selectors.closure_lists(past_limit=None if show_all else 25)
        for closure in upcoming + past:
            closure.period = describe_period(closure.start, closure.end, zone)
        context = {
            "upcoming": upcoming,
            "past": past,
            "past_hidden": past_total - len(past),
            "closure_form": closure_form or ClosureForm(time_zone=request.tenant.time_zone),
            "import_form": import_form or HolidayImportForm(today=timezone.localdate()),
        }
        return self.render(context, status=status)


class ClosureDeleteView(CatalogView):
    tab = "closures"

    def post(self, request, pk):
        closure = get_object_or_404(Closure, pk=pk)
        services.closure_delete(closure=closure)
        messages.success(request, _("The closure is deleted."))
        return redirect("settings:closures")


class HolidayImportView(ClosureListView):
    def get(self, request):
        return redirect("settings:closures")

    def post(self, request):
        form = HolidayImportForm(request.POST, today=timezone.localdate())
        if not form.is_valid():
            return self.show(import_form=form, status=400)
        state, years = form.cleaned_data["state"], sorted(form.cleaned_data["years"])
        result = services.holidays_import_counted(
            state=state, years=years, time_zone=request.tenant.time_zone
        )
        messages.success(
            request,
            _("Public holidays of %(state)s: %(added)s added, %(existing)s already there.")
            % {"state": STATE_NAMES[state], "added": result.added, "existing": result.existing},
        )
        return redirect("settings:closures")
