"""Who may open which backoffice page.

Owners and managers run the whole business; staff members see and edit only their own calendar.
Users and sessions live in the business's own schema, so a login of another business is unknown here.
"""

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from termino.tenants.business.roles import EVERYONE, MANAGERS, OWNER, is_manager, own_resource_ids

__all__ = [
    "EVERYONE",
    "MANAGERS",
    "OWNER",
    "RoleRequiredMixin",
    "is_manager",
    "own_resource_ids",
    "role_required",
]


def check_role(user, roles) -> None:
    if user.role not in roles:
        raise PermissionDenied


class RoleRequiredMixin(LoginRequiredMixin):
    """Class-based views: log in first, then the user's role must be one of `roles`."""

    roles = EVERYONE

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        check_role(request.user, self.roles)
        return super().dispatch(request, *args, **kwargs)


def role_required(*roles):
    """Function views: as RoleRequiredMixin."""
    roles = roles or EVERYONE

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            check_role(request.user, roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
