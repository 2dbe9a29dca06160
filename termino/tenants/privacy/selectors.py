"""Reads of the privacy area: which customers a user may see, the audit trail, customers' requests."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from termino.tenants.accounts.models import Role
from termino.tenants.crm.models import Customer

from .models import PersonalDataEvent, PrivacyRequest, RequestStatus


def sees_restricted(user) -> bool:
    """Customers whose processing is restricted are visible to the owner only (Art. 18 GDPR)."""
    return getattr(user, "is_authenticated", False) and user.role == Role.OWNER


def customer_for(*, user, pk) -> Customer:
    """The customer `pk` as `user` may open it: a restricted one is a 404 for everyone but the owner."""
    customers = Customer.objects.all()
    if not sees_restricted(user):
        customers = customers.filter(processing_restricted=False)
    customer = customers.filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def event_list(*, action: str = "", customer_id: int | None = None) -> QuerySet:
    events = PersonalDataEvent.objects.select_related("actor").order_by("-created_at", "-id")
    if action:
        events = events.filter(action=action)
    if customer_id is not None:
        events = events.filter(customer_id=customer_id)
    return events


REQUEST_TABS = {
    "open": Q(status=RequestStatus.VERIFIED),
    "pending": Q(status=RequestStatus.PENDING),
    "closed": Q(status__in=[RequestStatus.COMPLETED, RequestStatus.DECLINED]),
}


def request_list(*, tab: str = "open") -> QuerySet:
    condition = REQUEST_TABS.get(tab, REQUEST_TABS["open"])
    order = ("-verified_at", "-id") if tab == "open" else ("-created_at", "-id")
    return PrivacyRequest.objects.filter(condition).select_related("handled_by").order_by(*order)


def request_counts() -> dict[str, int]:
    return PrivacyRequest.objects.aggregate(
        **{tab: Count("id", filter=condition) for tab, condition in REQUEST_TABS.items()}
    )


def customers_by_email(emails) -> dict[str, list[Customer]]:
    """The customer entries of each address, for a page of requests (one query)."""
    found: dict[str, list[Customer]] = {}
    for customer in Customer.objects.filter(email__in=set(emails)).order_by("id"):
        found.setdefault(customer.email, []).append(customer)
    return found
