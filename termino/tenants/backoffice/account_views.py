"""The owner's account: the business's registration data, a summary of the business, the password.

The registration data lives in the public schema's Tenant row and is written only through
accounts.services.owner_registration_update (which uses tenancy.profile). Changing one's password and
one's API tokens are open to every role: each person owns their own password and tokens, and sees and
revokes only their own.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from termino.platform.backups import selectors as stored_exports
from termino.platform.tenancy.routing import primary_url
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import selectors, services
from termino.tenants.privacy.http import audit
from termino.tenants.privacy.models import EventAction

from .account_forms import AccountForm, AgendaForm, ApiTokenForm, PasswordChangeForm
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


@role_required(*EVERYONE)
def agenda(request):
    """The person's own daily agenda e-mail (their calendar column's appointments, each morning)."""
    form = AgendaForm(request.POST or None, initial={"agenda_email": request.user.agenda_email})
    context = {"form": form, "has_column": selectors.has_calendar_column(user=request.user)}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.user_agenda_email_set(user=request.user, enabled=form.cleaned_data["agenda_email"])
            except InvalidRequest as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("account:agenda")
        return _render(request, "backoffice/account/agenda.html", context, status=400)
    return _render(request, "backoffice/account/agenda.html", context)


@role_required(*EVERYONE)
def api_tokens(request):
    """The person's API tokens; a new one is shown once, in the answer to the POST that made it (never
    stored, not even in the session for a redirect)."""
    form = ApiTokenForm(request.POST or None)
    created, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
            except InvalidRequest as exc:
                form.add_error("name", exc.message)
            else:
                form = ApiTokenForm()
        if created is None:
            status = 400
    context = {
        "form": form,
        "created": created,
        "tokens": selectors.api_token_list(user=request.user),
        "valid_days": settings.API_TOKEN_DAYS,
        "api_url": primary_url(request.tenant, "/api/v1/"),
        "docs_url": primary_url(request.tenant, "/api/docs/"),
    }
    return _render(request, "backoffice/account/tokens.html", context, status=status)


@require_POST
@role_required(*EVERYONE)
def api_token_revoke(request, pk: int):
    token = selectors.api_token_of(user=request.user, pk=pk)
    if token is None or not services.api_token_revoke(user=request.user, token_id=pk):
        raise Http404  # another person's token, or one revoked a moment ago
    messages.success(request, _("The API token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("account:tokens")


@role_required(*OWNER)
def backups(request):
    """The nightly copies of the business its plan keeps, each to download (made without passwords)."""
    context = {
        "exports": stored_exports.owner_exports(request.tenant),
        "keep_days": stored_exports.nightly_days(request.tenant),
    }
    return _render(request, "backoffice/account/backups.html", context)


@role_required(*OWNER)
def backup_download(request, pk: int):
    export = stored_exports.owner_export(request.tenant, pk)
    if export is None:
        raise Http404
    try:
        handle = stored_exports.decrypted(export)
    except (OSError, stored_exports.CannotOpen) as exc:
        raise Http404 from exc
    audit(request, EventAction.EXPORT, details={"scope": "business", "nightly_copy": export.pk})
    name = f"{request.tenant.slug}-{export.created_at:%Y-%m-%d}-termino.zip"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response
