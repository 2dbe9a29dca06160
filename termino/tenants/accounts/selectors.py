from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from termino.platform.tenancy.routing import primary_url
from termino.shared import timeutils
from termino.tenants.business.roles import own_resource_ids
from termino.tenants.crm.models import Customer
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment, Resource, ResourceKind

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


def invitation_pending_list():
    """Invitations not accepted yet, expired ones included (they can be sent again)."""
    return (
        Invitation.objects.filter(accepted_at__isnull=True)
        .select_related("resource", "invited_by")
        .order_by("-created_at", "-id")
    )


def staff_columns_free(*, keep: Resource | None = None) -> list[Resource]:
    """Staff calendar columns nobody works in and nobody is invited to; `keep` is always included."""
    reserved = Invitation.objects.filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now(), resource__isnull=False
    ).values("resource_id")
    columns = list(
        Resource.objects.filter(kind=ResourceKind.STAFF, active=True, user__isnull=True)
        .exclude(pk__in=reserved)
        .order_by(Lower("name"), "id")
    )
    if keep is not None and keep not in columns:
        columns.insert(0, keep)
    return columns


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


def api_token_for_key(key: str) -> ApiToken | None:
    """The token a request presents, with its user; None for an unknown (or revoked) key."""
    if not key.startswith(ApiToken.PREFIX) or len(key) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(token_hash=ApiToken.hash_key(key)).first()


def has_calendar_column(*, user) -> bool:
    """Is the person a staff member with a calendar column of their own (what a daily agenda lists)?"""
    return Resource.objects.filter(user=user, active=True).exists()
