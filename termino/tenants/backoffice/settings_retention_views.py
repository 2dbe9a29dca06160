"""Settings: data retention (owners and managers). The rules, what they would change now (a dry run that
writes nothing), and the last runs of the nightly worker with their counts."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from termino.tenants.retention import rules, selectors, services

from .settings_general_views import SettingsPage
from .settings_retention_forms import RetentionPolicyForm

# What each count means, in a preview and in a run (one wording each, so no plural forms are needed).
PREVIEW_LABELS = {
    rules.CUSTOMERS_ERASED: gettext_lazy("Customers to erase"),
    rules.APPOINTMENTS_ANONYMISED: gettext_lazy("Appointments to anonymise"),
    rules.MESSAGE_TEXTS_DELETED: gettext_lazy("Message texts to delete"),
    rules.LOGIN_IPS_REMOVED: gettext_lazy("Login IP addresses to shorten"),
}
RUN_LABELS = {
    rules.CUSTOMERS_ERASED: gettext_lazy("Customers erased"),
    rules.APPOINTMENTS_ANONYMISED: gettext_lazy("Appointments anonymised"),
    rules.MESSAGE_TEXTS_DELETED: gettext_lazy("Message texts deleted"),
    rules.LOGIN_IPS_REMOVED: gettext_lazy("Login IPs shortened"),
}


def next_nightly_run(now: datetime | None = None) -> datetime | None:
    """When beat next starts the nightly run (its crontab's first time of day, in UTC), if scheduled."""
    entry = settings.CELERY_BEAT_SCHEDULE.get("retention-nightly")
    schedule = entry and entry.get("schedule")
    if schedule is None or not hasattr(schedule, "hour"):
        return None
    now = (now or timezone.now()).astimezone(UTC)
    candidate = now.replace(hour=min(schedule.hour), minute=min(schedule.minute), second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def _counts(counts: dict, labels: dict) -> list[dict]:
    return [{"key": key, "label": labels[key], "count": counts.get(key)} for key in rules.COUNT_KEYS]


class RetentionView(SettingsPage, FormView):
    """GET shows rules, preview and runs. POST "preview" shows what the entered rules would change without
    saving them; POST "save" stores them. Invalid input: 400 with the form's errors, nothing stored."""

    template_name = "backoffice/settings/retention.html"
    form_class = RetentionPolicyForm
    tab = "retention"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = selectors.retention_policy_get()
        return kwargs

    def get_context_data(self, **kwargs):
        preview = kwargs.pop("preview", None)
        context = super().get_context_data(**kwargs)
        runs = selectors.retention_runs_recent(limit=10)
        for run in runs:
            run.count_rows = _counts(run.counts, RUN_LABELS)
        context.update(
            preview=_counts(preview if preview is not None else services.retention_preview(), PREVIEW_LABELS),
            preview_unsaved=preview is not None,
            runs=runs,
            run_labels=[RUN_LABELS[key] for key in rules.COUNT_KEYS],
            next_run=next_nightly_run(),
        )
        return context

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        if self.request.POST.get("action") == "preview":
            preview = services.retention_preview(policy=form.instance)
            return self.render_to_response(self.get_context_data(form=form, preview=preview))
        services.retention_policy_update(data=form.cleaned_data, user=self.request.user)
        messages.success(self.request, _("Saved. The new rules apply from the next nightly run."))
        return redirect(self.request.path)
