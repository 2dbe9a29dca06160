"""Invitations by e-mail: sending again, withdrawing, and the invitee's page to join (`accept`, anonymous:
the link's token is the key). The list of people and the forms to add and edit them are people_views.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.shared import cookies
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import services
from termino.tenants.accounts.models import Invitation, User

from .permissions import MANAGERS, role_required
from .team_forms import AcceptForm


@role_required(*MANAGERS)
def team_list(request):
    """The Team page became People (logins and calendar columns in one list): old links keep working."""
    return redirect("people:list")


@role_required(*MANAGERS)
def team_invite(request):
    return redirect("people:new")


@role_required(*MANAGERS)
def member_edit(request, pk: int):
    return redirect("people:edit", pk=get_object_or_404(User, pk=pk).pk)


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
    return redirect("people:list")


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
    return redirect("people:list")


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
                form.add_error(None, exc.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                response = HttpResponseRedirect(_calendar_url())
                cookies.set_cookie(response, settings.USERNAME_COOKIE_NAME, user.get_username())
                return response
        return render(request, "backoffice/team/accept.html", context, status=400)
    return render(request, "backoffice/team/accept.html", context)
