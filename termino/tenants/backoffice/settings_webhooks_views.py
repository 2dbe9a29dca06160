"""Settings: webhooks (owner only). The endpoints, one endpoint with its delivery log, and the actions on
them (add, edit, rotate the secret, delete, resend a delivery). The work is in `tenants.webhooks`."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from termino.shared.errors import InvalidRequest
from termino.tenants.webhooks import selectors, services

from .permissions import OWNER
from .settings_general_views import SettingsPage
from .settings_webhooks_forms import EndpointEditForm, EndpointForm

# The secret of an endpoint just made or rotated, shown once on the next page (then forgotten).
SECRET_SESSION_KEY = "webhooks_secret_once"  # noqa: S105 (a session key, not a secret)


class WebhookPage(SettingsPage):
    roles = OWNER
    tab = "webhooks"


def _endpoint(pk: int):
    endpoint = selectors.endpoint_get(pk)
    if endpoint is None:
        raise Http404
    return endpoint


def _show_secret_once(request, endpoint) -> None:
    request.session[SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


class WebhooksView(WebhookPage, FormView):
    """The endpoints; the form adds one. Invalid input: 400 with the form's errors, nothing stored."""

    template_name = "backoffice/settings/webhooks.html"
    form_class = EndpointForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoints"] = selectors.endpoint_list()
        return context

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            endpoint = services.endpoint_create(**form.cleaned_data, created_by=self.request.user)
        except InvalidRequest as exc:
            form.add_error("url", exc.message)
            return self.form_invalid(form)
        _show_secret_once(self.request, endpoint)
        messages.success(self.request, _("Endpoint added."))
        return redirect("settings:webhook", pk=endpoint.pk)


class WebhookView(WebhookPage, FormView):
    """One endpoint: its settings, its secret (once, after it was made or rotated) and its delivery log."""

    template_name = "backoffice/settings/webhook.html"
    form_class = EndpointEditForm
    paginate_by = 25

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.role in OWNER:
            self.endpoint = _endpoint(kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        e = self.endpoint
        return {"url": e.url, "description": e.description, "events": e.events, "active": e.active}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        once = self.request.session.pop(SECRET_SESSION_KEY, None)
        page = Paginator(selectors.delivery_list(endpoint_id=self.endpoint.pk), self.paginate_by)
        page_obj = page.get_page(self.request.GET.get("page"))
        rows = list(page_obj.object_list)
        for row in rows:
            row.log = list(selectors.attempts_of(row)[:10])
        context.update(
            endpoint=self.endpoint,
            secret=once["secret"] if once and once.get("endpoint") == self.endpoint.pk else "",
            page_obj=page_obj,
            deliveries=rows,
            time_zone=self.request.tenant.time_zone,
        )
        return context

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            services.endpoint_update(endpoint=self.endpoint, **form.cleaned_data)
        except InvalidRequest as exc:
            form.add_error("url", exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect("settings:webhook", pk=self.endpoint.pk)


class WebhookRotateView(WebhookPage, View):
    def post(self, request, pk: int):
        endpoint = services.endpoint_secret_rotate(endpoint=_endpoint(pk))
        _show_secret_once(request, endpoint)
        messages.success(request, _("New secret made. It signs every request from now on."))
        return redirect("settings:webhook", pk=pk)


class WebhookDeleteView(WebhookPage, View):
    def post(self, request, pk: int):
        services.endpoint_delete(endpoint=_endpoint(pk))
        messages.success(request, _("Endpoint deleted."))
        return redirect("settings:webhooks")


class WebhookResendView(WebhookPage, View):
    def post(self, request, pk: int, delivery_pk: int):
        delivery = selectors.delivery_get(delivery_pk)
        if delivery is None or delivery.endpoint_id != pk:
            raise Http404
        try:
            services.delivery_resend(delivery=delivery)
        except InvalidRequest as exc:
            messages.error(request, _("Not sent again: %(reason)s") % {"reason": exc.message})
        else:
            messages.success(request, _("Queued again; it goes out within a minute."))
        return redirect("settings:webhook", pk=pk)
