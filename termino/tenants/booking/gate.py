"""Online booking opens once the business has confirmed its signup e-mail address (platform tenancy).

Until then the public API answers what can be booked and when (reads), but refuses to hold, book or
reschedule with a 403 and a sentence for the customer; cancelling an existing booking stays possible. The
booking page shows the same notice instead of the booking steps (views.booking_page).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

NOT_OPEN = _("Online booking is not available yet.")


class OnlineBookingOpen(BasePermission):
    message = NOT_OPEN
    code = "booking_not_open"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "open_while_unconfirmed", False):
            return True
        tenant = getattr(request, "tenant", None)
        # The routing cache's copy of the business: refreshed when the row changes, no query here.
        return bool(tenant is not None and tenant.email_confirmed)
