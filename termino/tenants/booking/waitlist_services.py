"""The booking page's side of the waitlist: joining takes the customer's contact and consent as a booking
does (the same customer matching and consent records), then the waitlist app keeps the place."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from termino.shared.errors import InvalidRequest
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm.models import Consent, ConsentKind
from termino.tenants.scheduling.models import Service
from termino.tenants.waitlist import services as waitlist
from termino.tenants.waitlist.models import Entry

from .services import _notice_version, advisory_lock, customer_find_or_create, paid_online


@dataclass(frozen=True)
class WaitlistJoin:
    wish: waitlist.Wish
    first_name: str
    last_name: str
    email: str
    phone: str
    privacy_consent: bool
    sms_consent: bool = False


@transaction.atomic
def waitlist_join(*, join: WaitlistJoin) -> tuple[Entry, str]:
    """Put the customer on the waitlist; returns the entry and the secret of its link to leave it."""
    if not join.privacy_consent:
        raise InvalidRequest(_("Please accept the privacy notice to join the waitlist."))
    advisory_lock(*(f"contact:{value}" for value in (join.email.lower(), join.phone) if value))
    customer = customer_find_or_create(
        first_name=join.first_name, last_name=join.last_name, email=join.email, phone=join.phone
    )
    service = Service.objects.filter(pk=join.wish.service_id).first()  # unknown: entry_join says so
    if service is not None and service.online_series:
        raise InvalidRequest(
            _("%(service)s is a course: choose a start on the booking page; it has no waitlist.")
            % {"service": service.name}
        )
    if service is not None and paid_online(service=service, customer=customer):
        raise InvalidRequest(
            _(
                "%(service)s is paid online when it is booked, so it has no waitlist. Please choose a time "
                "on the booking page."
            )
            % {"service": service.name}
        )
    version = _notice_version(BusinessSettings.current())
    Consent.objects.create(
        customer=customer, kind=ConsentKind.PRIVACY, granted=True, policy_version=version, source="widget"
    )
    if join.phone:
        Consent.objects.create(
            customer=customer,
            kind=ConsentKind.SMS_REMINDERS,
            granted=join.sms_consent,
            policy_version=version,
            source="widget",
        )
    return waitlist.entry_join(customer=customer, wish=join.wish)
