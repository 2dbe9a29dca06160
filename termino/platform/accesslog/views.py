"""The traffic page for platform staff at https://BASE_DOMAIN/staff/traffic/."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from termino.platform.staffadmin.security import staff_session_valid

from . import selectors

DAYS = 14


class TrafficView(TemplateView):
    template_name = "accesslog/traffic.html"

    def dispatch(self, request, *args, **kwargs):
        # The staff admin's own check: password and second factor, within the staff session's lifetime.
        if not staff_session_valid(request):
            if request.user.is_authenticated and not request.user.is_staff:
                raise PermissionDenied
            return redirect_to_login(request.get_full_path(), reverse("staffadmin:login"))
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
