import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from termino.shared import cookies
from termino.shared.ratelimit import RateLimited

from . import password_reset
from .forms import PasswordResetRequestForm, ResetPasswordForm
from .handover import handover_redeem
from .tasks import password_reset_mail
from .tokens import reset_tokens


class LoginView(auth_views.LoginView):
    """The business's login; remembers the login name (not the session) in a year-long cookie."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        initial = super().get_initial()
        initial["username"] = self.request.COOKIES.get(settings.USERNAME_COOKIE_NAME, "")
        return initial

    def form_valid(self, form):
        response = super().form_valid(form)
        cookies.set_cookie(response, settings.USERNAME_COOKIE_NAME, form.get_user().get_username())
        return response


class LogoutView(auth_views.LogoutView):
    pass


@require_GET
def welcome(request, token: str):
    """Where signup sends the new owner: the one-time pass logs her in and the page moves on at once.

    A pass that is used, expired or of another business gets a page that says so (410) with the way to
    the login, and changes nothing (no session is written for it).
    """
    user = handover_redeem(token)
    if user is None:
        return render(request, "accounts/welcome_gone.html", status=410)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = redirect("today:index")
    cookies.set_cookie(response, settings.USERNAME_COOKIE_NAME, user.get_username())
    return response


# --- Forgotten password ----------------------------------------------------------------------------------


class PasswordResetRequestView(View):
    """Asks for the address and answers the same for every one of them: "if it is known, a link is on its
    way". Subclasses say where the link is made (the task) and which pages to show."""

    template_name = "accounts/password_reset_request.html"
    sent_url_name = "accounts:password_reset_sent"

    def enqueue(self):
        """A function of the address that queues the mail task, called once the request is recorded."""
        schema, language = connection.schema_name, translation.get_language()

        def send(address: str) -> None:
            password_reset_mail.delay(schema_name=schema, address=address, language=language)

        return send

    def initial_address(self) -> str:
        return self.request.COOKIES.get(settings.USERNAME_COOKIE_NAME, "")

    def render(self, form, *, status: int = 200, **extra):
        return render(self.request, self.template_name, {"form": form, **extra}, status=status)

    def get(self, request):
        return self.render(PasswordResetRequestForm(initial={"email": self.initial_address()}))

    def post(self, request):
        form = PasswordResetRequestForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            password_reset.reset_request(
                request=request, address=form.cleaned_data["email"], enqueue=self.enqueue()
            )
        except RateLimited as exc:
            minutes = max(1, math.ceil(exc.retry_after / 60))
            response = self.render(form, status=429, limited_minutes=minutes)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return redirect(self.sent_url_name)


class PasswordResetSentView(TemplateView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["minutes"] = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
        return context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view (the token moves from the URL into the session before the form shows, so it cannot
    leak through the Referer), with our token generator, an atomic single-use completion, the audit, and
    clear 404/410 answers for links that are not valid (any more)."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetPasswordForm
    token_generator = reset_tokens
    staff_only = False
    # A business's people are logged in with their new password; platform staff are not (TOTP first).
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("today:index")
    request_url_name = "accounts:password_reset"

    def get_user(self, uidb64):
        return password_reset.reset_user_for_link(uidb64, staff_only=self.staff_only)

    def dispatch(self, *args, **kwargs):
        self.link_token = kwargs.get("token")
        if self.link_token == self.reset_url_token:
            self.link_token = self.request.session.get(auth_views.INTERNAL_RESET_SESSION_TOKEN)
        return super().dispatch(*args, **kwargs)

    def complete(self, form):
        return password_reset.reset_complete(
            request=self.request,
            user_pk=self.user.pk,
            token=self.link_token,
            password=form.cleaned_data["new_password1"],
            staff_only=self.staff_only,
        )

    def form_valid(self, form):
        try:
            user = self.complete(form)
        except password_reset.ResetLinkInvalid:  # used a moment ago in another tab
            self.validlink = False
            return self.render_to_response(self.get_context_data())
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        if self.post_reset_login:
            login(self.request, user, self.post_reset_login_backend)
        else:
            # A fresh session: this browser's may have been one of the person's, deleted by the reset.
            self.request.session.flush()
        self.done(user)
        return redirect(self.get_success_url())

    def done(self, user) -> None:
        messages.success(self.request, _("Your new password is set. You are logged in."))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = (
            not self.validlink
            and self.user is not None
            and (reset_tokens.is_expired(self.user, self.link_token))
        )
        context["login_name"] = self.user.get_username() if self.validlink else ""
        context["request_url_name"] = self.request_url_name
        context["minutes"] = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
        return context

    def render_to_response(self, context, **kwargs):
        if not context.get("validlink"):
            kwargs.setdefault("status", 410 if context.get("expired") else 404)
        elif self.request.method == "POST":
            kwargs.setdefault("status", 400)  # the form came back with errors
        return super().render_to_response(context, **kwargs)
