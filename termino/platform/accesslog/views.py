"""The traffic page for platform staff at https://BASE_DOMAIN/staff/traffic/."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from . import selectors

DAYS = 14


def _login_url() -> str:
    for name in ("staffadmin:login", "admin:login"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return settings.LOGIN_URL


def _signed_in_staff(request) -> bool:
    """Platform staff with the second factor passed; the staff admin's own check (which also bounds the
    session's lifetime) when it is installed."""
    try:
        from termino.platform.staffadmin.security import staff_session_valid
    except ImportError:
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_active
            and user.is_staff
            and request.tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
            and getattr(user, "is_verified", lambda: True)()
        )
    return staff_session_valid(request)


class TrafficView(TemplateView):
    template_name = "accesslog/traffic.html"

    def dispatch(self, request, *args, **kwargs):
        if not _signed_in_staff(request):
            if request.user.is_authenticated and not request.user.is_staff:
                raise PermissionDenied
            return redirect_to_login(request.get_full_path(), _login_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sites = selectors.traffic_sites(days=DAYS)
        site = self.request.GET.get("site", "")
        if site not in {schema for schema, _name in sites}:
            site = ""
        traffic = selectors.traffic_summary(days=DAYS, site=site, unknown=_("unknown"))
        context.update(
            traffic=traffic,
            sites=sites,
            site=site,
            days=DAYS,
            kept_days=getattr(settings, "ACCESS_LOG_DAYS", 14),
            peak_views=max((d.views for d in traffic.days), default=0),
        )
        return context
