from django.http import HttpResponseRedirect
from django.views.generic import FormView, TemplateView

from termino.shared.welcome import welcome_token_issue

from .forms import TAKEN, SignupForm
from .routing import primary_url
from .services import SubdomainTaken, tenant_provision


class LandingView(TemplateView):
    template_name = "tenancy/landing.html"


class SignupView(FormView):
    template_name = "tenancy/signup.html"
    form_class = SignupForm

    def form_valid(self, form):
        signup = form.to_signup()
        try:
            tenant = tenant_provision(signup=signup)
        except SubdomainTaken:
            form.add_error("slug", TAKEN)
            return self.form_invalid(form)
        token = welcome_token_issue(schema_name=tenant.schema_name, username=signup.email)
        return HttpResponseRedirect(primary_url(tenant, f"/login/?welcome={token}"))
