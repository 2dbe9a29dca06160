"""The e-mailed confirmation link and the banner's "send it again", at the business's own host.

The link lives at the business's host rather than the platform's: links to a business are built from its
Domain row, the host says which business is meant (a link of another business is refused here), and the
owner ends up next to their backoffice, whose login session lives at this host. Confirming needs no login
(the link from the e-mail is the proof), but a POST: opening the link only shows the button.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from termino.shared.errors import InvalidRequest
from termino.shared.ratelimit import RateLimited

from . import confirmation
from .confirmation import LinkState
from .views import wait_text

STATUS = {LinkState.INVALID: 404, LinkState.EXPIRED: 410}


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request, token: str):
    tenant = request.tenant
    just_confirmed = False
    if request.method == "POST":
        state = confirmation.tenant_email_confirm(tenant=tenant, token=token)
        if state == LinkState.VALID:
            state, just_confirmed = LinkState.CONFIRMED, True
    else:
        state = confirmation.confirmation_link_state(tenant=tenant, token=token)
    response = TemplateResponse(
        request,
        "tenancy/confirm_email.html",
        {"state": state.value, "just_confirmed": just_confirmed, "token": token},
        status=STATUS.get(state, 200),
    )
    # The link must not leak to other sites through the Referer header.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
@login_required
def resend(request):
    try:
        sent = confirmation.confirmation_resend(tenant=request.tenant)
    except RateLimited as exc:
        messages.error(
            request,
            _("A new link has been sent several times already. Please try again in %(wait)s.")
            % {"wait": wait_text(exc.retry_after)},
        )
    except InvalidRequest as exc:
        messages.error(request, exc.message)
    else:
        if sent:
            messages.success(
                request,
                ngettext(
                    "We have sent a new link to %(email)s. It is valid for %(days)d day.",
                    "We have sent a new link to %(email)s. It is valid for %(days)d days.",
                    confirmation.link_valid_for().days,
                )
                % {"email": request.tenant.email, "days": confirmation.link_valid_for().days},
            )
        else:
            messages.info(request, _("Your e-mail address is confirmed already."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "today:index"
    return redirect(target)


# Included by termino/urls_tenant.py at /confirm-email/.
app_name = "email_confirm"
urlpatterns = [
    path("resend/", resend, name="resend"),
    path("<str:token>/", confirm_email, name="confirm"),
]
