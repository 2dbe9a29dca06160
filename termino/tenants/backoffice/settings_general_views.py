"""Settings of a business (owners and managers): overview, profile, legal texts, booking rules, messages,
and the message log with resend."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from termino.platform.tenancy.profile import tenant_locale_update
from termino.platform.tenancy.routing import primary_url
from termino.shared.errors import InvalidRequest
from termino.shared.sms.segments import sms_segments
from termino.tenants.business.models import BusinessSettings
from termino.tenants.compliance import services as compliance
from termino.tenants.notifications import rendering, selectors, services
from termino.tenants.notifications.models import Channel, MessageKind, OutboxMessage
from termino.tenants.scheduling.models import Closure, Resource, ResourceKind, Service, WeeklyHours

from .permissions import MANAGERS, RoleRequiredMixin
from .settings_general_forms import (
    BookingRulesForm,
    LegalForm,
    MessageSettingsForm,
    MessageTemplateForm,
    OutboxFilterForm,
    ProfileForm,
    text_errors,
)

KINDS = [
    MessageKind.CONFIRMATION,
    MessageKind.REQUEST,
    MessageKind.DECLINED,
    MessageKind.CHANGE,
    MessageKind.CANCELLATION,
    MessageKind.REMINDER,
]
CHANNELS = [Channel.SMS, Channel.EMAIL]


class SettingsPage(RoleRequiredMixin):
    """Owners and managers only; fills the frame's `section` and the settings tab bar's `tab`."""

    roles = MANAGERS
    section = "settings"
    tab = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(section=self.section, tab=self.tab, tenant=self.request.tenant)
        return context


class SettingsFormView(SettingsPage, FormView):
    """GET shows the form; a valid POST saves in one transaction and comes back; an invalid one is 400."""

    success_message = ""

    def get_success_url(self) -> str:
        return self.request.path

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        with transaction.atomic():
            self.save(form)
        messages.success(self.request, self.success_message or _("Saved."))
        return redirect(self.get_success_url())

    def save(self, form) -> None:
        raise NotImplementedError


def _hours(hours: list[int]) -> str:
    """[24, 2] → "24 h and 2 h"."""
    parts = [f"{h} h" for h in hours]
    if len(parts) < 2:
        return "".join(parts)
    return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


class IndexView(SettingsPage, TemplateView):
    template_name = "backoffice/settings/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        rules = BusinessSettings.current()
        leads = rules.reminder_leads
        staff = Resource.objects.filter(active=True, kind=ResourceKind.STAFF).count()
        rooms = Resource.objects.filter(active=True, kind=ResourceKind.ROOM).count()
        open_days = (
            WeeklyHours.objects.filter(resource__isnull=True)
            .values_list("weekday", flat=True)
            .distinct()
            .count()
        )
        context.update(
            rules=rules,
            language_name=dict(ProfileForm.base_fields["language"].choices).get(
                tenant.language, tenant.language
            ),
            address_name=rules.get_customer_address_display(),
            reminders=_("Reminders %(hours)s before") % {"hours": _hours(leads)} if leads else "",
            own_texts=len(selectors.message_templates()),
            failed_recently=selectors.outbox_problem_count(since=timezone.now() - timedelta(days=7)),
            service_count=Service.objects.filter(active=True).count(),
            staff_count=staff,
            room_count=rooms,
            open_days=open_days,
            closure_count=Closure.objects.filter(end__gte=timezone.now()).count(),
        )
        return context


class ProfileView(SettingsFormView):
    template_name = "backoffice/settings/profile.html"
    form_class = ProfileForm
    tab = "profile"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["current_time_zone"] = self.request.tenant.time_zone
        return kwargs

    def get_initial(self):
        tenant, rules = self.request.tenant, BusinessSettings.current()
        return {
            "time_zone": tenant.time_zone,
            "language": (tenant.language or "de")[:2],
            "customer_address": rules.customer_address,
            "brand_colour": rules.brand_colour,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rules"] = BusinessSettings.current()
        return context

    def save(self, form) -> None:
        data = form.cleaned_data
        tenant_locale_update(
            tenant=self.request.tenant, time_zone=data["time_zone"], language=data["language"]
        )
        rules = BusinessSettings.objects.select_for_update().get(pk=BusinessSettings.current().pk)
        rules.customer_address = data["customer_address"]
        rules.brand_colour = data["brand_colour"]
        old_logo = rules.logo.name
        if data.get("logo"):
            rules.logo.save(data["logo"].name, data["logo"], save=False)
        elif data.get("remove_logo"):
            rules.logo = ""
        rules.save(update_fields=["customer_address", "brand_colour", "logo"])
        if old_logo and old_logo != rules.logo.name:
            storage = rules.logo.storage
            transaction.on_commit(lambda: storage.delete(old_logo))


def _next_version(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else timezone.now().strftime("%Y%m%d%H%M%S")


class LegalView(SettingsFormView):
    """The legal texts of the booking page. The privacy notice is generated from the business's settings
    (and follows them) until the business writes its own; `?edit=1` starts from the generated text."""

    template_name = "backoffice/settings/legal.html"
    form_class = LegalForm
    tab = "legal"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = BusinessSettings.current()
        return kwargs

    def editing(self) -> bool:
        return self.request.method == "GET" and self.request.GET.get("edit") == "1"

    def get_initial(self):
        initial = super().get_initial()
        if self.editing() and not BusinessSettings.current().privacy_notice:
            language = (translation.get_language() or "de")[:2]
            initial["privacy_notice"] = compliance.generated_text(self.request.tenant, language)
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        notice = compliance.booking_notice_current(self.request.tenant)
        acceptance = compliance.notice_acceptance_latest()
        context.update(
            notice=notice,
            notice_document=notice.document(),
            notice_accepted=acceptance if acceptance and acceptance.version == notice.version else None,
            notice_accepted_before=acceptance,
            editing=self.editing() or bool(notice.text) or self.request.method == "POST",
        )
        return context

    def save(self, form) -> None:
        rules = BusinessSettings.objects.select_for_update().get(pk=form.instance.pk)
        data = form.cleaned_data
        fields = ["impressum", "privacy_notice"]
        # Consents record the version the customer accepted: a new text is a new version.
        if data["privacy_notice"] != rules.privacy_notice:
            rules.privacy_policy_version = _next_version(rules.privacy_policy_version)
            fields.append("privacy_policy_version")
            self.success_message = _(
                "Saved. Customers who book from now on accept version %(version)s of your privacy notice."
            ) % {"version": rules.privacy_policy_version}
        rules.impressum, rules.privacy_notice = data["impressum"], data["privacy_notice"]
        rules.save(update_fields=fields)


class BookingNoticeView(SettingsPage, View):
    """POST: accept the generated privacy notice as the business's own, or go back to it from a text
    written by hand."""

    http_method_names = ["post"]

    def post(self, request):
        action = request.POST.get("action")
        if action == "accept":
            try:
                compliance.booking_notice_accept(
                    tenant=request.tenant, user=request.user, version=request.POST.get("version", "")
                )
            except InvalidRequest as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Accepted. The notice follows your settings from now on; you need not do anything "
                        "when they change."
                    ),
                )
        elif action == "generated":
            with transaction.atomic():
                rules = BusinessSettings.objects.select_for_update().get(pk=BusinessSettings.current().pk)
                if rules.privacy_notice:
                    rules.privacy_notice = ""
                    rules.privacy_policy_version = _next_version(rules.privacy_policy_version)
                    rules.save(update_fields=["privacy_notice", "privacy_policy_version"])
            messages.success(request, _("Your booking page shows the generated privacy notice again."))
        else:
            messages.error(request, _("Nothing was changed."))
        return redirect("settings:legal")


class BookingRulesView(SettingsFormView):
    template_name = "backoffice/settings/booking.html"
    form_class = BookingRulesForm
    tab = "booking"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = BusinessSettings.current()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        context.update(
            booking_url=primary_url(tenant, "/book/"),
            embed_url=primary_url(tenant, "/embed.js"),
            origins=BusinessSettings.current().origins,
        )
        return context

    def save(self, form) -> None:
        BusinessSettings.objects.select_for_update().get(pk=form.instance.pk)
        form.save()


def _sample_service_name() -> str:
    return Service.objects.filter(active=True).values_list("name", flat=True).first() or ""


def _preview(*, channel: str, subject: str, body: str, values: dict) -> dict:
    rendered_subject, rendered_body = rendering.render_text(
        channel=channel, subject=subject, body=body, values=values
    )
    preview = {"subject": rendered_subject, "body": rendered_body}
    if channel == Channel.SMS:
        encoding, parts = sms_segments(rendered_body)
        preview.update(segments=parts, encoding=encoding, chars=len(rendered_body))
    return preview


class MessagesView(SettingsFormView):
    template_name = "backoffice/settings/messages.html"
    form_class = MessageSettingsForm
    tab = "messages"
    success_message = ""

    def get_initial(self):
        return MessageSettingsForm.initial_from(BusinessSettings.current())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, rules = self.request.tenant, BusinessSettings.current()
        own = selectors.message_templates()
        values = rendering.sample_values(tenant=tenant, service_name=_sample_service_name())
        rows = []
        for kind in KINDS:
            cells = []
            for channel in CHANNELS:
                template = own.get((kind, channel))
                subject, body = (
                    (template.subject, template.body)
                    if template
                    else rendering.default_text(kind=kind, channel=channel, tenant=tenant, rules=rules)
                )
                cells.append(
                    {
                        "channel": channel,
                        "channel_name": Channel(channel).label,
                        "own": template is not None,
                        "preview": _preview(channel=channel, subject=subject, body=body, values=values),
                    }
                )
            rows.append({"kind": kind, "kind_name": MessageKind(kind).label, "cells": cells})
        context.update(
            rules=rules,
            rows=rows,
            default_sender=services.default_sender_id(tenant.name),
            text_variant=_text_variant_name(tenant, rules),
        )
        return context

    def save(self, form) -> None:
        data = form.cleaned_data
        rules = BusinessSettings.objects.select_for_update().get(pk=BusinessSettings.current().pk)
        rules.reminder_hours = data["reminder_hours"]
        rules.quiet_hours_start = data["quiet_hours_start"]
        rules.quiet_hours_end = data["quiet_hours_end"]
        rules.sms_sender_id = data["sms_sender_id"]
        for field in MessageSettingsForm.TEAM_FIELDS:
            setattr(rules, field, data[field])
        rules.save(
            update_fields=[
                "reminder_hours",
                "quiet_hours_start",
                "quiet_hours_end",
                "sms_sender_id",
                *MessageSettingsForm.TEAM_FIELDS,
            ]
        )


def _text_variant_name(tenant, rules) -> str:
    if (tenant.language or "de")[:2] == "en":
        return _("English")
    if rules.customer_address == "informal":
        return _("German, informal (du)")
    return _("German, formal (Sie)")


def _kind_and_channel(kwargs) -> tuple[str, str]:
    kind, channel = kwargs["kind"], kwargs["channel"]
    if kind not in MessageKind.values or channel not in Channel.values:
        raise Http404
    return kind, channel


class MessageTemplateView(SettingsFormView):
    """Edit the text of one kind of message on one channel; "reset" goes back to the default text."""

    template_name = "backoffice/settings/message_template.html"
    form_class = MessageTemplateForm
    tab = "messages"

    def dispatch(self, request, *args, **kwargs):
        # Only for those allowed here: everyone else gets the login or 403 first, never a 404 hint.
        if request.user.is_authenticated and request.user.role in self.roles:
            self.kind, self.channel = _kind_and_channel(kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["channel"] = self.channel
        return kwargs

    def get_initial(self):
        subject, body = rendering.current_text(
            kind=self.kind, channel=self.channel, tenant=self.request.tenant
        )
        return {"subject": subject, "body": body}

    def get_success_url(self) -> str:
        return reverse("settings:messages") + "#texts"

    def post(self, request, *args, **kwargs):
        if request.POST.get("action") == "reset":
            services.message_template_reset(kind=self.kind, channel=self.channel)
            messages.success(request, _("The default text is used again."))
            return redirect(self.get_success_url())
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant, rules = self.request.tenant, BusinessSettings.current()
        form = context["form"]
        values = rendering.sample_values(tenant=tenant, service_name=_sample_service_name())
        subject = form["subject"].value() if "subject" in form.fields else ""
        body = form["body"].value() or ""
        default_subject, default_body = rendering.default_text(
            kind=self.kind, channel=self.channel, tenant=tenant, rules=rules
        )
        context.update(
            kind=self.kind,
            channel=self.channel,
            kind_name=MessageKind(self.kind).label,
            channel_name=Channel(self.channel).label,
            own=selectors.message_templates().get((self.kind, self.channel)),
            placeholders=[
                (name, label, values.get(name, "")) for name, label in rendering.PLACEHOLDERS.items()
            ],
            preview=_preview(channel=self.channel, subject=subject or "", body=body, values=values),
            default_subject=default_subject,
            default_body=default_body,
            text_variant=_text_variant_name(tenant, rules),
        )
        return context

    def save(self, form) -> None:
        template = services.message_template_save(
            kind=self.kind,
            channel=self.channel,
            subject=form.cleaned_data.get("subject", ""),
            body=form.cleaned_data["body"],
            tenant=self.request.tenant,
            updated_by=self.request.user,
        )
        self.success_message = (
            _("Your text is saved. It is used for every message of this kind from now on.")
            if template
            else _("This is the default text, so the default is used.")
        )


class MessagePreviewView(SettingsPage, View):
    """The live preview of a text being edited: the sample appointment filled in, SMS parts counted."""

    def post(self, request, *args, **kwargs):
        kind, channel = _kind_and_channel(kwargs)
        subject = request.POST.get("subject", "") if channel == Channel.EMAIL else ""
        body = request.POST.get("body", "")[: MessageTemplateForm.EMAIL_MAX]
        errors = text_errors(subject, field_label=_("Subject")) + text_errors(body, field_label=_("Text"))
        values = rendering.sample_values(tenant=request.tenant, service_name=_sample_service_name())
        preview = _preview(channel=channel, subject=subject, body=body, values=values)
        return JsonResponse({**preview, "kind": kind, "errors": errors}, status=400 if errors else 200)


class OutboxView(SettingsPage, TemplateView):
    """The message log: every SMS and e-mail of the business, newest first."""

    template_name = "backoffice/settings/outbox.html"
    section = "messages"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        form = OutboxFilterForm(self.request.GET)
        filters = form.filters()
        page = Paginator(selectors.outbox_list(time_zone=tenant.time_zone, filters=filters), self.paginate_by)
        page_obj = page.get_page(self.request.GET.get("page"))
        query = {k: v for k, v in self.request.GET.items() if k != "page" and v}
        context.update(
            form=form,
            filtered=bool(filters),
            page_obj=page_obj,
            rows=_rows_with_refusals(page_obj.object_list, tenant),
            query=urlencode(query),
            time_zone=tenant.time_zone,
            here=self.request.get_full_path(),
        )
        return context


def _rows_with_refusals(messages, tenant) -> list[tuple[OutboxMessage, str]]:
    """Each message with why it cannot be sent again ("": "Resend" is offered)."""
    messages = list(messages)
    refusals = services.resend_refusals(messages, tenant=tenant)
    return [(m, refusals[m.pk]) for m in messages]


class OutboxResendView(SettingsPage, View):
    """Queue a new copy of a message (the old row stays as it was); back to the log with the outcome."""

    def post(self, request, pk: int):
        try:
            resend = services.outbox_resend(message_id=pk, requested_by=request.user, tenant=request.tenant)
        except OutboxMessage.DoesNotExist as exc:
            raise Http404 from exc
        except services.ResendRefused as exc:
            messages.error(request, _("Not sent again: %(reason)s") % {"reason": exc.message})
        else:
            messages.success(
                request,
                _("Queued again for %(recipient)s; it goes out within a minute.")
                % {"recipient": resend.recipient},
            )
        return redirect(self._back(request))

    @staticmethod
    def _back(request) -> str:
        outbox = reverse("settings:outbox")
        target = request.POST.get("next", "")
        if target.startswith(outbox) and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            return target
        return outbox
