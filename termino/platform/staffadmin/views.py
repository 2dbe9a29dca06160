"""The staff admin at https://BASE_DOMAIN/staff/: login (password, then TOTP), businesses, actions, audit."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp import verify_token

from termino.platform.billing.models import Plan
from termino.platform.billing.services import LIVE_SUBSCRIPTION
from termino.platform.legal import selectors as legal_selectors
from termino.platform.tenancy.routing import primary_url
from termino.shared.client_ip import client_ip
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import views as account_views

from . import forms, security, selectors, services
from .models import ActionKind, ImpersonationGrant
from .tasks import staff_password_reset_mail

PAGE_SIZE = 50


def _safe_next(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


class StaffRequiredMixin:
    """Platform staff signed in with password and TOTP, within their session's fixed lifetime."""

    section = ""

    def dispatch(self, request, *args, **kwargs):
        if not security.staff_session_valid(request):
            if request.user.is_authenticated and security.LOGIN_AT in request.session:
                logout(request)
                messages.info(request, _("Your staff session has ended. Please sign in again."))
            return redirect_to_login(request.get_full_path(), reverse("staffadmin:login"))
        return super().dispatch(request, *args, **kwargs)


# --- Login -------------------------------------------------------------------------------------------


def _locked_response(request, template: str, context: dict):
    minutes = security.lockout_minutes()
    context["locked"] = ngettext(
        "Too many failed attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    return render(request, template, context, status=429)


class LoginView(View):
    """Step 1: login name and password of a platform staff account (a user of the public schema)."""

    template_name = "staffadmin/login.html"

    def get(self, request):
        if security.staff_session_valid(request):
            return redirect(_safe_next(request, request.GET.get("next", "")) or "staffadmin:businesses")
        return render(
            request, self.template_name, {"form": forms.PasswordForm(), "next": request.GET.get("next", "")}
        )

    def post(self, request):
        form = forms.PasswordForm(request.POST)
        next_url = _safe_next(request, request.POST.get("next", ""))
        context = {"form": form, "next": next_url}
        if not form.is_valid():
            return render(request, self.template_name, context, status=400)
        username, ip = form.cleaned_data["username"], client_ip(request)
        if security.login_blocked(username, ip):
            return _locked_response(request, self.template_name, context)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None or not (user.is_staff and user.is_active) or not security.is_platform_host(request):
            security.failure_record(username, ip)
            form.add_error(
                None, _("Login name or password is wrong, or this is not a platform staff account.")
            )
            return render(request, self.template_name, context, status=400)
        security.pending_start(request, user, next_url)
        if selectors.totp_device_confirmed(user) is None:
            return redirect("staffadmin:enrol")
        return redirect("staffadmin:verify")


def _complete_login(request, user, device):
    next_url = security.pending_clear(request)
    login(request, user, backend=security.model_backend())
    otp_login(request, device)
    request.session[security.LOGIN_AT] = int(time.time())
    request.session.set_expiry(0)  # ends with the browser; LOGIN_AT bounds it to STAFFADMIN_SESSION_SECONDS
    security.failures_clear(user.get_username())
    services.staff_action_record(
        staff=user, action=ActionKind.LOGIN, details={"device": device.pk}, ip=client_ip(request)
    )
    return redirect(next_url or "staffadmin:businesses")


class _CodeStepView(View):
    """Step 2 (or 2 for a new device): a TOTP code. Wrong codes are counted per login name and address,
    and django-otp throttles the device itself (1, 2, 4, … seconds between tries)."""

    template_name = ""

    def device_for(self, user):
        raise NotImplementedError

    def context(self, user, device, form) -> dict:
        return {"form": form, "staff_user": user}

    def get(self, request):
        user = security.pending_user(request)
        if user is None:
            return redirect("staffadmin:login")
        device = self.device_for(user)
        if device is None:
            return self.wrong_step()
        return render(request, self.template_name, self.context(user, device, forms.CodeForm()))

    def post(self, request):
        user = security.pending_user(request)
        if user is None:
            messages.info(request, _("Please enter your login name and password again."))
            return redirect("staffadmin:login")
        device = self.device_for(user)
        if device is None:
            return self.wrong_step()
        form = forms.CodeForm(request.POST)
        context = self.context(user, device, form)
        ip = client_ip(request)
        if security.login_blocked(user.get_username(), ip):
            security.pending_clear(request)
            return _locked_response(request, self.template_name, context)
        if not form.is_valid():
            return render(request, self.template_name, context, status=400)
        allowed, info = device.verify_is_allowed()
        if not allowed and info and info.get("locked_until"):
            wait = max(1, int(info["locked_until"].timestamp() - time.time()) + 1)
            form.add_error(
                "code",
                ngettext(
                    "Too many wrong codes. Please wait %(seconds)d second.",
                    "Too many wrong codes. Please wait %(seconds)d seconds.",
                    wait,
                )
                % {"seconds": wait},
            )
            return render(request, self.template_name, context, status=429)
        verified = verify_token(user, device.persistent_id, form.cleaned_data["code"])
        if verified is None:
            failures = security.failure_record(user.get_username(), ip)
            services.staff_action_record(
                staff=user, action=ActionKind.OTP_FAILED, details={"failures": failures}, ip=ip
            )
            if failures >= settings.STAFFADMIN_MAX_FAILURES:
                security.pending_clear(request)
                return _locked_response(request, self.template_name, context)
            form.add_error(
                "code", _("This code is not right. Check the time on your phone and try the current code.")
            )
            return render(request, self.template_name, context, status=400)
        self.confirmed(verified, ip)
        return _complete_login(request, user, verified)

    def confirmed(self, device, ip) -> None:
        pass


class VerifyView(_CodeStepView):
    template_name = "staffadmin/verify.html"

    def device_for(self, user):
        return selectors.totp_device_confirmed(user)

    def wrong_step(self):
        return redirect("staffadmin:enrol")


class EnrolView(_CodeStepView):
    """First login of a staff member without a device: show the secret and QR code, confirm with a code."""

    template_name = "staffadmin/enrol.html"

    def device_for(self, user):
        if selectors.totp_device_confirmed(user) is not None:
            return None  # set up already: the code step, never a second secret
        return services.totp_device_for_enrolment(user=user)

    def wrong_step(self):
        return redirect("staffadmin:verify")

    def context(self, user, device, form) -> dict:
        import qrcode
        import qrcode.image.svg

        url = services.totp_config_url(device, user)
        image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
        secret = services.totp_secret(device)
        return {
            **super().context(user, device, form),
            # Drawn by qrcode from our own otpauth URL: no user input reaches the markup.
            "qr_svg": mark_safe(image.to_string(encoding="unicode")),  # noqa: S308
            "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "issuer": settings.STAFFADMIN_TOTP_ISSUER,
        }

    def confirmed(self, device, ip) -> None:
        services.totp_device_confirm(device=device, ip=ip)


class LogoutView(View):
    http_method_names = ["post"]

    def post(self, request):
        logout(request)
        messages.success(request, _("You have signed out."))
        return redirect("staffadmin:login")


# --- Businesses --------------------------------------------------------------------------------------


def _plans() -> list[tuple[str, str]]:
    return list(Plan.objects.order_by("sort_order", "price_monthly_cents").values_list("code", "name"))


class BusinessListView(StaffRequiredMixin, TemplateView):
    template_name = "staffadmin/business_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = forms.BusinessFilterForm(
            self.request.GET, statuses=selectors.business_statuses(), plans=_plans()
        )
        filters = form.cleaned_data if form.is_valid() else {}
        businesses = selectors.business_list(
            query=filters.get("q", ""), status=filters.get("status", ""), plan=filters.get("plan", "")
        )
        page = Paginator(businesses, PAGE_SIZE).get_page(self.request.GET.get("page"))
        activity = selectors.business_activity(page.object_list)
        dpa = legal_selectors.dpa_latest_numbers(tenant.pk for tenant in page.object_list)
        for tenant in page.object_list:
            tenant.dpa_version = dpa.get(tenant.pk)  # the AV contract version the owner accepted last
        rows = [
            (tenant, activity[tenant.pk], security.host_url(tenant.primary_domain))
            for tenant in page.object_list
        ]
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            section="businesses",
            form=form,
            page=page,
            rows=rows,
            filtered=any(filters.values()),
            query_string=query.urlencode(),
            dpa_current=legal_selectors.dpa_current_number(),
        )
        return context


def _business_or_404(pk: int):
    tenant = selectors.business_get(pk)
    if tenant is None:
        raise Http404
    return tenant


def _detail_context(request, tenant, **forms_given) -> dict:
    users = selectors.business_users(tenant)
    account = selectors.billing_account_of(tenant)
    held = bool(account and account.held_by_staff)
    context = {
        "can_suspend": account is not None and not held and tenant.status != "cancelled",
        "can_reactivate": held or tenant.status == "suspended",
        "can_extend_trial": account is not None and account.subscription_status not in LIVE_SUBSCRIPTION,
        "section": "businesses",
        "business": tenant,
        "business_url": security.host_url(tenant.primary_domain),
        "account": account,
        "activity": selectors.business_activity([tenant])[tenant.pk],
        "sms_lock": selectors.sms_lock_of(tenant),
        "trail": selectors.status_trail(tenant),
        "domains": selectors.domains_of(tenant),
        "users": users,
        "actions": selectors.staff_action_list(tenant=tenant)[:20],
        "impersonations": selectors.active_impersonations(tenant),
        "impersonation_minutes": settings.STAFFADMIN_IMPERSONATION_MINUTES,
        "suspend_form": forms.ReasonForm(prefix_id="suspend"),
        "reactivate_form": forms.ReasonForm(prefix_id="reactivate"),
        "trial_form": forms.TrialExtendForm(prefix_id="trial"),
        "sms_lock_form": forms.ReasonForm(prefix_id="smslock"),
        "sms_unlock_form": forms.ReasonForm(prefix_id="smsunlock"),
        "impersonate_form": forms.ImpersonateForm(prefix_id="impersonate", users=users),
        "dpa_acceptances": legal_selectors.dpa_acceptances(tenant)[:10],
        "dpa_current": legal_selectors.dpa_current_number(),
        "restore_form": forms.RestoreForm(
            prefix_id="restore", sources=restore_sources(tenant), slug=tenant.slug
        ),
    }
    context.update(forms_given)
    return context


class BusinessDetailView(StaffRequiredMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request, pk: int):
        tenant = _business_or_404(pk)
        return render(request, "staffadmin/business_detail.html", _detail_context(request, tenant))


class BusinessActionView(StaffRequiredMixin, View):
    """A POST with a reason; on success back to the business with a message, else its page with the
    form's errors (400) and nothing changed."""

    http_method_names = ["post"]
    form_class = forms.ReasonForm
    form_name = ""  # the form's name in the detail page's context
    prefix_id = ""

    def make_form(self, tenant, data):
        return self.form_class(data, prefix_id=self.prefix_id)

    def perform(self, tenant, form, ip):
        raise NotImplementedError

    def post(self, request, pk: int):
        tenant = _business_or_404(pk)
        form = self.make_form(tenant, request.POST)
        if form.is_valid():
            try:
                response = self.perform(tenant, form, client_ip(request))
            except InvalidRequest as exc:
                form.add_error(None, exc.message)
            else:
                return response or redirect("staffadmin:business", pk=tenant.pk)
        context = _detail_context(request, tenant, **{self.form_name: form})
        context["failed_form"] = self.form_name
        return render(request, "staffadmin/business_detail.html", context, status=400)


class SuspendView(BusinessActionView):
    form_name, prefix_id = "suspend_form", "suspend"

    def perform(self, tenant, form, ip):
        services.business_suspend(
            staff=self.request.user, tenant=tenant, reason=form.cleaned_data["reason"], ip=ip
        )
        messages.success(self.request, _("%(name)s is suspended.") % {"name": tenant.name})


class ReactivateView(BusinessActionView):
    form_name, prefix_id = "reactivate_form", "reactivate"

    def perform(self, tenant, form, ip):
        entry = services.business_reactivate(
            staff=self.request.user, tenant=tenant, reason=form.cleaned_data["reason"], ip=ip
        )
        if entry.details["new_status"] == "suspended":
            messages.warning(
                self.request,
                _(
                    "The suspension by platform staff is lifted, but %(name)s stays suspended: its trial is "
                    "over or a payment is open. Extend the trial to open it."
                )
                % {"name": tenant.name},
            )
        else:
            messages.success(self.request, _("%(name)s is open again.") % {"name": tenant.name})


class TrialExtendView(BusinessActionView):
    form_class, form_name, prefix_id = forms.TrialExtendForm, "trial_form", "trial"

    def perform(self, tenant, form, ip):
        services.business_trial_extend(
            staff=self.request.user,
            tenant=tenant,
            days=form.cleaned_data["days"],
            reason=form.cleaned_data["reason"],
            ip=ip,
        )
        messages.success(
            self.request,
            ngettext(
                "The trial of %(name)s is extended by %(days)d day.",
                "The trial of %(name)s is extended by %(days)d days.",
                form.cleaned_data["days"],
            )
            % {"name": tenant.name, "days": form.cleaned_data["days"]},
        )


class SmsLockView(BusinessActionView):
    form_name, prefix_id = "sms_lock_form", "smslock"

    def perform(self, tenant, form, ip):
        services.sms_lock(staff=self.request.user, tenant=tenant, reason=form.cleaned_data["reason"], ip=ip)
        messages.success(self.request, _("SMS of %(name)s are locked.") % {"name": tenant.name})


class SmsUnlockView(BusinessActionView):
    form_name, prefix_id = "sms_unlock_form", "smsunlock"

    def perform(self, tenant, form, ip):
        services.sms_unlock(staff=self.request.user, tenant=tenant, reason=form.cleaned_data["reason"], ip=ip)
        messages.success(self.request, _("SMS of %(name)s are unlocked.") % {"name": tenant.name})


class ImpersonateView(BusinessActionView):
    form_class, form_name, prefix_id = forms.ImpersonateForm, "impersonate_form", "impersonate"

    def make_form(self, tenant, data):
        return self.form_class(data, prefix_id=self.prefix_id, users=selectors.business_users(tenant))

    def perform(self, tenant, form, ip):
        if not tenant.primary_domain:
            raise InvalidRequest(_("This business has no address (domain) to sign in at."))
        _grant, token = services.impersonation_grant_create(
            staff=self.request.user,
            tenant=tenant,
            target_user_id=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"],
            ip=ip,
        )
        return redirect(primary_url(tenant, f"/staff-login/{token}/"))


class ImpersonationEndView(StaffRequiredMixin, View):
    """End a sign-in as user from here (the link, or the session running at the business's host)."""

    http_method_names = ["post"]

    def post(self, request, pk: int, grant_pk: int):
        tenant = _business_or_404(pk)
        if not ImpersonationGrant.objects.filter(pk=grant_pk, tenant_id=tenant.pk).exists():
            raise Http404
        if services.impersonation_end(
            grant_id=grant_pk, why="ended from the staff admin", ip=client_ip(request)
        ):
            messages.success(request, _("The sign-in as user has ended."))
        return redirect("staffadmin:business", pk=tenant.pk)


# --- Restoring a business ----------------------------------------------------------------------------


def restore_sources(tenant) -> list[tuple[str, str]]:
    """What a restore can start from: the business's stored exports, then files an operator put into
    RESTORE_INBOX (e.g. exported from a backup restored into a scratch server)."""
    from termino.platform.backups import selectors as backups
    from termino.platform.backups import services as backup_services

    choices = [
        (
            f"export:{e.pk}",
            " · ".join(
                (
                    str(e.get_kind_display()),
                    formats.date_format(timezone.localtime(e.created_at), "SHORT_DATETIME_FORMAT"),
                    ngettext("%(n)d row", "%(n)d rows", e.rows) % {"n": e.rows},
                )
            ),
        )
        for e in backups.business_exports(tenant)
    ]
    choices += [(f"inbox:{p.name}", f"{p.name} ({_('file')})") for p in backup_services.inbox_files(tenant)]
    return choices


class RestoreView(BusinessActionView):
    """Restore one business in place from an export (all or nothing), audited with the reason."""

    form_class = forms.RestoreForm
    form_name, prefix_id = "restore_form", "restore"

    def make_form(self, tenant, data):
        return self.form_class(
            data, prefix_id=self.prefix_id, sources=restore_sources(tenant), slug=tenant.slug
        )

    def perform(self, tenant, form, ip):
        from pathlib import Path

        from termino.platform.backups import services as backup_services
        from termino.platform.backups.models import BusinessExport
        from termino.platform.tenancy.transfer import TransferError

        kind, _sep, value = form.cleaned_data["source"].partition(":")
        export = path = None
        if kind == "export":
            export = BusinessExport.objects.filter(pk=int(value), tenant_id=tenant.pk).first()
        else:
            path = Path(settings.RESTORE_INBOX) / Path(value).name
        if export is None and path is None:
            raise InvalidRequest(_("This export no longer exists."))
        try:
            result = backup_services.business_restore(
                tenant=tenant,
                export=export,
                path=path,
                logins="file" if form.cleaned_data["logins"] else "live",
                reason=form.cleaned_data["reason"],
                staff=self.request.user,
                ip=ip,
            )
        except TransferError as exc:
            raise InvalidRequest(
                _("The restore was refused; nothing was changed: %(why)s") % {"why": exc}
            ) from exc
        messages.success(
            self.request,
            _(
                "%(name)s is restored (%(rows)d rows in %(seconds).1f s); %(erased)d erasure(s) "
                "re-applied. The state before is kept as export %(safety)d."
            )
            % {
                "name": tenant.name,
                "rows": result.rows,
                "seconds": result.seconds,
                "erased": len(result.erasures_reapplied),
                "safety": result.safety_export.pk,
            },
        )


# --- The audit log -----------------------------------------------------------------------------------


class AuditLogView(StaffRequiredMixin, TemplateView):
    """Read only: the log is append-only, no view changes or deletes an entry."""

    template_name = "staffadmin/audit_log.html"
    http_method_names = ["get", "head"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = forms.AuditFilterForm(self.request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        entries = selectors.staff_action_list(action=filters.get("action", ""), query=filters.get("q", ""))
        page = Paginator(entries, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(section="audit", form=form, page=page, query_string=query.urlencode())
        return context


# --- Forgotten password ------------------------------------------------------------------------------


class _PlatformHostOnly:
    """The staff pages exist on the platform host only (the public URLconf); say so in code too."""

    def dispatch(self, request, *args, **kwargs):
        if not security.is_platform_host(request):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class PasswordResetRequestView(_PlatformHostOnly, account_views.PasswordResetRequestView):
    template_name = "staffadmin/password_reset_request.html"
    sent_url_name = "staffadmin:password_reset_sent"

    def enqueue(self):
        ip, language = client_ip(self.request), translation.get_language()

        def send(address: str) -> None:
            staff_password_reset_mail.delay(address=address, ip=ip, language=language)

        return send

    def initial_address(self) -> str:
        return ""


class PasswordResetSentView(_PlatformHostOnly, account_views.PasswordResetSentView):
    template_name = "staffadmin/password_reset_sent.html"


class PasswordResetConfirmView(_PlatformHostOnly, account_views.PasswordResetConfirmView):
    """Sets the password only: no login follows, the sign-in asks for the password and the TOTP code."""

    template_name = "staffadmin/password_reset_confirm.html"
    staff_only = True
    post_reset_login = False
    success_url = reverse_lazy("staffadmin:login")
    request_url_name = "staffadmin:password_reset"

    def complete(self, form):
        return services.staff_password_reset_complete(
            request=self.request,
            user_pk=self.user.pk,
            token=self.link_token,
            password=form.cleaned_data["new_password1"],
        )

    def done(self, user) -> None:
        messages.success(
            self.request,
            _("Your new password is set. Sign in with it and the code from your authenticator app."),
        )
