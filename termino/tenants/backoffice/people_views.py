"""People: everyone who works here in one list, whether they log in, appear in the calendar, or both.

A login is an accounts.User with a role; a calendar column is a scheduling.Resource of kind staff; a
person with both has them linked (one login, one column at most: a unique key in the database). The
rules of who may change whom are accounts.services' (roles.py): owners and managers use these pages,
managers look after staff members; staff members get 403.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import selectors, services
from termino.tenants.accounts.models import Invitation, Role, User
from termino.tenants.scheduling.models import Resource, ResourceKind

from .people_forms import ColumnEditForm, PersonAddForm, PersonEditForm
from .permissions import MANAGERS, role_required


def may_manage(acting_user, member) -> bool:
    """As services._check_may_manage, for showing or hiding the edit links."""
    return acting_user.role == Role.OWNER or member.pk == acting_user.pk or member.role == Role.STAFF


def may_grant(acting_user, role) -> bool:
    return role == Role.STAFF or acting_user.role == Role.OWNER


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, f"backoffice/people/{template}", {"section": "people", **context}, status=status)


def _add_error(form, exc: InvalidRequest) -> None:
    field = getattr(exc, "field", None)
    if field == "column":
        field = "in_calendar"
    form.add_error(field if field in form.fields else None, exc.message)


@role_required(*MANAGERS)
def people_list(request):
    people = selectors.people_list()
    for person in people:
        person.can_edit = person.user is None or may_manage(request.user, person.user)
        person.can_manage_invitation = person.invitation is not None and may_grant(
            request.user, person.invitation.role
        )
    return _render(request, "list.html", {"people": people})


@role_required(*MANAGERS)
def person_add(request):
    form = PersonAddForm(request.POST or None, acting_user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                _column, invitation = services.person_add(
                    tenant=request.tenant,
                    acting_user=request.user,
                    name=data["name"],
                    email=data["email"],
                    role=data["role"],
                    in_calendar=data["in_calendar"],
                    services=data["services"],
                )
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                if invitation is not None:
                    messages.success(
                        request,
                        _("%(name)s is added; the invitation has been sent to %(email)s.")
                        % {"name": data["name"], "email": invitation.email},
                    )
                else:
                    messages.success(request, _("%(name)s is added.") % {"name": data["name"]})
                return redirect("people:list")
        return _render(request, "add.html", {"form": form}, status=400)
    return _render(request, "add.html", {"form": form})


@role_required(*MANAGERS)
def person_edit(request, pk: int):
    member = get_object_or_404(User.objects.select_related("resource"), pk=pk)
    if not may_manage(request.user, member):
        raise PermissionDenied
    form = PersonEditForm(request.POST or None, member=member, acting_user=request.user)
    context = {"form": form, "member": member, "column": getattr(member, "resource", None)}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.person_update(
                    member=member,
                    acting_user=request.user,
                    name=data["name"],
                    role=data["role"],
                    is_active=data["is_active"],
                    in_calendar=data["in_calendar"],
                    services=data["services"],
                )
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("people:list")
        return _render(request, "edit.html", context, status=400)
    return _render(request, "edit.html", context)


@role_required(*MANAGERS)
def column_edit(request, pk: int):
    column = get_object_or_404(Resource, pk=pk, kind=ResourceKind.STAFF)
    if column.user_id is not None:
        return redirect("people:edit", pk=column.user_id)
    invitation = Invitation.objects.filter(resource=column, accepted_at__isnull=True).first()
    form = ColumnEditForm(
        request.POST or None, column=column, acting_user=request.user, invitable=invitation is None
    )
    context = {"form": form, "column": column, "invitation": invitation}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.column_update(
                    tenant=request.tenant,
                    column=column,
                    acting_user=request.user,
                    name=data["name"],
                    in_calendar=data["in_calendar"],
                    services=data["services"],
                    invite_email=data.get("email", ""),
                    role=data.get("role", Role.STAFF),
                )
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("people:list")
        return _render(request, "column.html", context, status=400)
    return _render(request, "column.html", context)


@require_POST
@role_required(*MANAGERS)
def person_deactivate(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    try:
        services.person_deactivate(acting_user=request.user, member=member)
    except InvalidRequest as exc:
        messages.error(request, exc.message)
        return redirect("people:edit", pk=member.pk)
    messages.success(request, _("%(name)s is deactivated.") % {"name": member.get_full_name() or member})
    return redirect("people:list")


@require_POST
@role_required(*MANAGERS)
def column_deactivate(request, pk: int):
    column = get_object_or_404(Resource, pk=pk, kind=ResourceKind.STAFF, user__isnull=True)
    services.person_deactivate(acting_user=request.user, column=column)
    messages.success(request, _("%(name)s is deactivated.") % {"name": column.name})
    return redirect("people:list")
