"""The team: who works here, with which role and calendar column; invitations by e-mail.

Owners and managers use these pages (managers look after staff members); staff members get 403.
The invitee's page (`accept`) is anonymous: the link's token is the key.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.shared import cookies
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import selectors, services
from termino.tenants.accounts.models import Invitation, Role, User

from .permissions import MANAGERS, role_required
from .team_forms import AcceptForm, InviteForm, MemberForm


def _may_manage(acting_user, member) -> bool:
    """As services._check_may_manage, for showing or hiding the edit links."""
    return acting_user.role == Role.OWNER or member.pk == acting_user.pk or member.role == Role.STAFF


def _may_grant(acting_user, role) -> bool:
    return role == Role.STAFF or acting_user.role == Role.OWNER


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"section": "team", **context}, status=status)


def _add_error(form, exc: InvalidRequest) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


@role_required(*MANAGERS)
def team_list(request):
    members = list(selectors.team_member_list())
    for member in members:
        member.can_edit = _may_manage(request.user, member)
    invitations = list(selectors.invitation_pending_list())
    for invitation in invitations:
        invitation.can_manage = _may_grant(request.user, invitation.role)
    return _render(request, "backoffice/team/list.html", {"members": members, "invitations": invitations})


@role_required(*MANAGERS)
def team_invite(request):
    form = InviteForm(request.POST or None, acting_user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = services.user_invite(
                    tenant=request.tenant,
                    invited_by=request.user,
                    email=data["email"],
                    name=data["name"],
                    role=data["role"],
                    resource=data["resource"],
                    new_resource_name=data["new_resource_name"],
                )
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                messages.success(
                    request, _("The invitation has been sent to %(email)s.") % {"email": invitation.email}
                )
                return redirect("team:list")
        return _render(request, "backoffice/team/invite.html", {"form": form}, status=400)
    return _render(request, "backoffice/team/invite.html", {"form": form})


@require_POST
@role_required(*MANAGERS)
def invitation_resend(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk, accepted_at__isnull=True)
    try:
        services.invitation_resend(tenant=request.tenant, invitation=invitation, acting_user=request.user)
    except InvalidRequest as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The invitation has been sent again to %(email)s.") % {"email": invitation.email}
        )
    return redirect("team:list")


@require_POST
@role_required(*MANAGERS)
def invitation_revoke(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk, accepted_at__isnull=True)
    try:
        services.invitation_revoke(invitation=invitation, acting_user=request.user)
    except InvalidRequest as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The invitation to %(email)s has been withdrawn.") % {"email": invitation.email}
        )
    return redirect("team:list")


@role_required(*MANAGERS)
def member_edit(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    if not _may_manage(request.user, member):
        raise PermissionDenied
    form = MemberForm(request.POST or None, member=member, acting_user=request.user)
    context = {"form": form, "member": member}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.user_update(
                    member=member,
                    acting_user=request.user,
                    name=data["name"],
                    role=data["role"],
                    is_active=data["is_active"],
                    resource=data["resource"],
                    new_resource_name=data["new_resource_name"],
                )
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("team:list")
        return _render(request, "backoffice/team/edit.html", context, status=400)
    return _render(request, "backoffice/team/edit.html", context)


def _calendar_url() -> str:
    try:
        return reverse("calendar:index")
    except NoReverseMatch:  # the calendar is not part of this build yet
        return "/"


def accept(request, token: str):
    """The invitee chooses name and password, is logged in and lands in the calendar."""
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationNotFound:
        return render(request, "backoffice/team/accept_invalid.html", {"reason": "unknown"}, status=404)
    except services.InvitationGone:
        return render(request, "backoffice/team/accept_invalid.html", {"reason": "gone"}, status=410)

    form = AcceptForm(request.POST or None, invitation=invitation)
    context = {"form": form, "invitation": invitation}
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.invitation_accept(
                    token=token,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                    language=(get_language() or "")[:2],
                )
            except services.InvitationGone:
                return render(request, "backoffice/team/accept_invalid.html", {"reason": "gone"}, status=410)
            except InvalidRequest as exc:
                _add_error(form, exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                response = HttpResponseRedirect(_calendar_url())
                cookies.set_cookie(response, settings.USERNAME_COOKIE_NAME, user.get_username())
                return response
        return render(request, "backoffice/team/accept.html", context, status=400)
    return render(request, "backoffice/team/accept.html", context)
