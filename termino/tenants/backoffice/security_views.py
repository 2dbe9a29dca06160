"""The owner's view of the business's login log (/account/logins/): who logged in, when, from where.

Only the owner sees it: it shows every team member's logins and failed attempts with IP addresses.
Full addresses are shown only while they are kept (LOGIN_IP_DAYS), afterwards only their network.
"""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from termino.tenants.accounts import audit
from termino.tenants.accounts.models import LoginOutcome

from .permissions import OWNER, role_required

PAGE_SIZE = 50


class LoginFilterForm(forms.Form):
    """Filters (GET); an unknown value is ignored, not answered with an error page."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("All outcomes")), *LoginOutcome.choices]
    )

    def outcome_value(self) -> str:
        return self.cleaned_data.get("outcome", "") if self.is_valid() else ""


@role_required(*OWNER)
def login_list(request):
    form = LoginFilterForm(request.GET or None)
    outcome = form.outcome_value()
    page_obj = Paginator(audit.login_event_list(outcome=outcome), PAGE_SIZE).get_page(request.GET.get("page"))
    cutoff = audit.login_ip_cutoff()
    rows = [(event, *audit.login_event_ip_display(event, cutoff=cutoff)) for event in page_obj]
    return render(
        request,
        "backoffice/security/logins.html",
        {
            "section": "account",
            "form": form,
            "rows": rows,
            "page_obj": page_obj,
            "outcome": outcome,
            "query": f"outcome={outcome}" if outcome else "",
            "ip_days": audit.login_ip_days(),
        },
    )
