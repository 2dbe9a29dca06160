from datetime import timedelta

from django.conf import settings
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.timesince import timeuntil
from django.views.generic import FormView, TemplateView
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.shared.client_ip import client_ip
from termino.shared.ratelimit import RateLimited
from termino.tenants.accounts.handover import handover_issue
from termino.tenants.accounts.models import Role, User

from .forms import TAKEN, SignupForm
from .routing import primary_url
from .services import SubdomainTaken
from .signup import business_sign_up


def wait_text(seconds: int) -> str:
    """ "42 minutes", "3 hours, 5 minutes" (in the active language): how long until the next attempt."""
    now = timeutils.now()
    return timeuntil(timeutils.shift(now, timedelta(seconds=max(seconds, 60))), now)


class LandingView(TemplateView):
    template_name = "tenancy/landing.html"


class SignupView(FormView):
    template_name = "tenancy/signup.html"
    form_class = SignupForm

    def get_initial(self):
        from termino.platform.legal.models import DocumentKind
        from termino.platform.legal.services import document_current

        self.privacy_version = document_current(DocumentKind.PRIVACY)
        return {**super().get_initial(), "privacy_version": self.privacy_version.number}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "privacy_version": self.privacy_version}

    def form_valid(self, form):
        signup = form.to_signup()
        try:
            tenant = business_sign_up(signup=signup, ip=client_ip(self.request))
        except RateLimited as exc:
            return signup_limited(self.request, exc.retry_after)
        except SubdomainTaken:
            form.add_error("slug", TAKEN)
            return self.form_invalid(form)
        # Straight into the backoffice, logged in: a one-time pass redeemed at the business's own host.
        with schema_context(tenant.schema_name):
            token = handover_issue(user=User.objects.get(role=Role.OWNER))
        return HttpResponseRedirect(
            primary_url(tenant, reverse("accounts:welcome", args=[token], urlconf=settings.ROOT_URLCONF))
        )


def signup_limited(request, retry_after: int):
    response = TemplateResponse(
        request, "tenancy/signup_limited.html", {"wait": wait_text(retry_after)}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response
