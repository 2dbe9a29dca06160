from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.db.models.functions import Lower

from termino.platform.tenancy.routing import primary_url
from termino.shared import timeutils
from termino.tenants.business.roles import own_resource_ids
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment, Resource, ResourceKind, Service

from .models import ApiToken, Invitation, Role, User


def dashboard(*, user, tenant) -> dict:
    """Today at a glance, in the business's own time zone."""
    zone = ZoneInfo(tenant.time_zone)
    today = timeutils.today(zone)
    start, end = timeutils.local_day_bounds(today, today, zone)
    monday = today - timedelta(days=today.weekday())
    week_start, week_end = timeutils.local_day_bounds(monday, monday + timedelta(days=6), zone)
    active = Appointment.objects.filter(status__in=ACTIVE_STATUSES)
    own = own_resource_ids(user)
    if own is not None:  # a staff member's day is their own column
        active = active.filter(allocations__resource_id__in=own).distinct()
    todays = (
        active.filter(start__gte=start, start__lt=end)
        .select_related("service", "customer")
        .prefetch_related("allocations__resource")
        .order_by("start")
    )
    return {
        "today": today,
        "time_zone": zone,
        "todays_appointments": list(todays),
        "week_count": active.filter(start__gte=week_start, start__lt=week_end).count(),
        "customer_count": Customer.objects.count(),
    }


def team_member_list():
    """Everyone with a login here: the owner first, then managers, then staff members, by name."""
    rank = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.MANAGER, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        User.objects.select_related("resource")
        .annotate(role_rank=rank)
        .order_by("-is_active", "role_rank", Lower("first_name"), Lower("last_name"), "id")
    )


@dataclass
class Person:
    """One row of the People page: a login, a staff calendar column, or both (or an open invitation)."""

    name: str
    user: User | None = None
    column: Resource | None = None
    invitation: Invitation | None = None

    @property
    def services(self) -> list[Service]:
        return list(self.column.services.all()) if self.column else []

    @property
    def in_calendar(self) -> bool:
        return self.column is not None and self.column.active

    @property
    def active(self) -> bool:
        has_login = self.user is not None and self.user.is_active
        return has_login or self.in_calendar or self.invitation is not None


def people_list() -> list[Person]:
    """Everyone who works here, as one list: logins (with their column), staff columns without a login
    (with the open invitation to it, if any), and open invitations without a column. Active first; the
    owner first among logins."""
    ordered = Service.objects.order_by("name", "pk")
    services = Prefetch("services", queryset=ordered)
    users = list(team_member_list().prefetch_related(Prefetch("resource__services", queryset=ordered)))
    open_invitations = list(invitation_pending_list())
    by_column = {i.resource_id: i for i in open_invitations if i.resource_id is not None}
    columns = (
        Resource.objects.filter(kind=ResourceKind.STAFF, user__isnull=True)
        .prefetch_related(services)
        .order_by("-active", Lower("name"), "id")
    )
    people = [
        Person(name=u.get_full_name() or u.get_username(), user=u, column=getattr(u, "resource", None))
        for u in users
    ]
    people += [Person(name=c.name, column=c, invitation=by_column.get(c.pk)) for c in columns]
    people += [Person(name=i.name, invitation=i) for i in open_invitations if i.resource_id is None]
    return sorted(people, key=lambda p: not p.active)  # stable: each group keeps its own order


def invitation_pending_list():
    """Invitations not accepted yet, expired ones included (they can be sent again)."""
    return (
        Invitation.objects.filter(accepted_at__isnull=True)
        .select_related("resource", "invited_by")
        .order_by("-created_at", "-id")
    )


def account_summary(*, tenant) -> dict:
    """What the owner sees about their business at a glance (read from the public schema row)."""
    return {
        "booking_url": primary_url(tenant, "/book/"),
        "created_at": tenant.created_at,
        "status": tenant.get_status_display(),
    }


def api_token_list(*, user) -> list[ApiToken]:
    """The person's own API tokens, newest first (expired ones too, until they are removed or replaced)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def api_token_of(*, user, pk: int) -> ApiToken | None:
    """One of the person's own tokens; another person's is not found."""
    return ApiToken.objects.filter(user=user, pk=pk).first()


def has_calendar_column(*, user) -> bool:
    """Is the person a staff member with a calendar column of their own (what a daily agenda lists)?"""
    return Resource.objects.filter(user=user, active=True).exists()
