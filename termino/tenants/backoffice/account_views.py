"""The owner's account: the business's registration data, a summary of the business, the password.

The registration data lives in the public schema's Tenant row and is written only through
accounts.services.owner_registration_update (which uses tenancy.profile). Changing one's password is
open to every role: each person owns their own password.
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import selectors, services

from .account_forms import AccountForm, PasswordChangeForm
from .permissions import EVERYONE, OWNER, role_required


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"section": "account", **context}, status=status)


@role_required(*OWNER)
def account_index(request):
    tenant = request.tenant
    form = AccountForm(request.POST or None, initial=AccountForm.initial_from(tenant))
    context = {"form": form, "summary": selectors.account_summary(tenant=tenant)}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.owner_registration_update(tenant=tenant, owner=request.user, **form.cleaned_data)
            except InvalidRequest as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Your details have been saved."))
                return redirect("account:index")
        return _render(request, "backoffice/account/index.html", context, status=400)
    return _render(request, "backoffice/account/index.html", context)


@role_required(*EVERYONE)
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = services.user_password_change(
                user=request.user, password=form.cleaned_data["new_password1"]
            )
            # Keeps this session (others of the same person end: their stored hash no longer matches).
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("account:password")
        return _render(request, "backoffice/account/password.html", {"form": form}, status=400)
    return _render(request, "backoffice/account/password.html", {"form": form})
