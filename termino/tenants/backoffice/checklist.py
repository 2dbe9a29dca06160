"""The first-run checklist of the start page: what a new business still has to do before customers book.

Every tick is read from the business's data, never from a flag that could disagree with it: opening
hours exist, an active service exists, every active service has an active staff member, the booking page
takes bookings, a website may embed it. Owners and managers see it until they put it away, which they
can once the required steps are done.
"""

from dataclasses import dataclass, field

import qrcode
import qrcode.image.svg
from django.utils.safestring import mark_safe

from termino.platform.tenancy.routing import primary_url
from termino.tenants.business.models import BusinessSettings
from termino.tenants.business.roles import is_manager
from termino.tenants.scheduling.models import Resource, ResourceKind, Service, WeeklyHours

from .models import ChecklistDismissal


@dataclass
class Checklist:
    hours: bool
    service: bool
    people: bool
    booking_page: bool
    website: bool
    email_confirmed: bool
    unstaffed: list[Service] = field(default_factory=list)
    own_column: Resource | None = None
    booking_url: str = ""
    origins: list[str] = field(default_factory=list)

    REQUIRED = ("hours", "service", "people", "booking_page")

    @property
    def done_count(self) -> int:
        return sum(getattr(self, step) for step in self.REQUIRED)

    @property
    def total(self) -> int:
        return len(self.REQUIRED)

    @property
    def complete(self) -> bool:
        return self.done_count == self.total

    @property
    def qr_svg(self) -> str:
        image = qrcode.make(
            self.booking_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=6, border=2
        )
        # Drawn by qrcode from the business's own Domain row: no user input reaches the markup.
        return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308


def checklist_for(*, user, tenant) -> Checklist | None:
    """The checklist for this person, or None when it is not theirs to see (staff) or was put away."""
    if not is_manager(user) or ChecklistDismissal.objects.exists():
        return None
    return checklist_state(user=user, tenant=tenant)


def checklist_state(*, user, tenant) -> Checklist:
    services = list(Service.objects.filter(active=True).prefetch_related("resources").order_by("name", "pk"))

    def staffed(service: Service) -> bool:
        return any(r.kind == ResourceKind.STAFF and r.active for r in service.resources.all())

    unstaffed = [s for s in services if not staffed(s)]
    hours = WeeklyHours.objects.filter(resource__isnull=True).exists()
    bookable_online = any(s.bookable_online and staffed(s) for s in services)
    return Checklist(
        hours=hours,
        service=bool(services),
        people=bool(services) and not unstaffed,
        booking_page=tenant.email_confirmed and hours and bookable_online,
        website=bool(BusinessSettings.current().origins),
        email_confirmed=tenant.email_confirmed,
        unstaffed=unstaffed,
        own_column=Resource.objects.filter(user=user).first(),
        booking_url=primary_url(tenant, "/book/"),
        origins=BusinessSettings.current().origins,
    )
