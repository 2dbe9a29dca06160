"""Django's admin behind the staff login: only staff who passed password *and* TOTP at /staff/ get in."""

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse


class StaffOnlyAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        from .security import staff_session_valid

        return super().has_permission(request) and staff_session_valid(request)

    def login(self, request, extra_context=None):
        # One login page for platform staff: the admin's own would ask for a password only.
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("staffadmin:login"))
