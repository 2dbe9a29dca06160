"""What views need to record an event: the client's address and the acting user from the request."""

from termino.shared.client_ip import client_ip

from .services import event_record

__all__ = ["audit", "client_ip"]


def audit(request, action: str, *, customer=None, customer_id=None, customer_label=None, details=None):
    """Records that the logged-in user did `action` (to `customer`), from the request's address."""
    return event_record(
        action=action,
        actor=request.user,
        customer=customer,
        customer_id=customer_id,
        customer_label=customer_label,
        details=details,
        ip=client_ip(request),
    )
