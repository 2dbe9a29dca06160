from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from termino.shared.welcome import welcome_token_redeem

from . import selectors


class LoginView(auth_views.LoginView):
    """The business's login; remembers the login name (not the session) in a year-long cookie."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        initial = super().get_initial()
        username = welcome_token_redeem(self.request.GET.get("welcome", ""))
        self.welcomed = bool(username)
        initial["username"] = username or self.request.COOKIES.get(settings.USERNAME_COOKIE_NAME, "")
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["welcomed"] = getattr(self, "welcomed", False)
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        response.set_cookie(
            settings.USERNAME_COOKIE_NAME,
            form.get_user().get_username(),
            max_age=settings.USERNAME_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response


class LogoutView(auth_views.LogoutView):
    pass


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.dashboard(user=self.request.user, tenant=self.request.tenant))
        context["section"] = "today"
        return context
