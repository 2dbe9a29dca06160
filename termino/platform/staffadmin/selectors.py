"""Reads of the staff admin: businesses with their activity, their users, trails and the audit log.

`sms_locked` is also the door for tenant-side code (the outbox): it reads only this app's table.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from termino.platform.billing.models import BillingAccount, StatusChange
from termino.platform.tenancy.models import POOL_STATUSES, Domain, Tenant, TenantStatus
from termino.tenants.notifications.models import Channel, MessageStatus, OutboxMessage
from termino.tenants.scheduling.models import Appointment, AppointmentStatus

from .models import ImpersonationGrant, SmsLock, StaffAction

logger = logging.getLogger(__name__)


# What the outbox records on an SMS it skips for a lock (in English, like the outbox's other reasons).
def sms_locked(tenant) -> bool:
    """Are this business's SMS locked by platform staff (abuse)? Then none may be sent."""
    return SmsLock.objects.filter(tenant_id=tenant.pk).exists()


def sms_lock_of(tenant) -> SmsLock | None:
    return SmsLock.objects.select_related("locked_by").filter(tenant_id=tenant.pk).first()


# --- Businesses --------------------------------------------------------------------------------------


def _businesses() -> QuerySet:
    """Businesses only: neither the platform's own row nor the warm pool's spare schemas."""
    return Tenant.objects.exclude(status__in=POOL_STATUSES).exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)


def _phone_variants(query: str) -> list[str]:
    """`030 1234-56` finds `+49301234 56`: compare digits, a leading 0 read as Germany's +49."""
    digits = re.sub(r"\D", "", query)
    if len(digits) < 4:
        return []
    variants = [digits]
    if digits.startswith("00"):
        variants.append(digits[2:])
    elif digits.startswith("0"):
        variants.append("49" + digits[1:])
    return variants


def business_list(*, query: str = "", status: str = "", plan: str = "") -> QuerySet:
    """Businesses matching the search (company, subdomain, owner, e-mail, phone) and filters, newest first."""
    primary = Domain.objects.filter(tenant_id=OuterRef("pk"), is_primary=True).values("domain")[:1]
    businesses = (
        _businesses()
        .select_related("billing_account__plan", "sms_lock")
        .annotate(primary_domain=Subquery(primary))
        .order_by("-created_at", "-id")
    )
    query = query.strip()
    if query:
        match = (
            Q(name__icontains=query)
            | Q(slug__icontains=query)
            | Q(email__icontains=query)
            | Q(owner_name__icontains=query)
            | Q(phone__icontains=query)
        )
        for variant in _phone_variants(query):
            match |= Q(phone__contains=variant)
        businesses = businesses.filter(match)
    if status:
        businesses = businesses.filter(status=status)
    if plan:
        businesses = businesses.filter(billing_account__plan__code=plan)
    return businesses


def business_get(pk: int) -> Tenant | None:
    primary = Domain.objects.filter(tenant_id=OuterRef("pk"), is_primary=True).values("domain")[:1]
    return (
        _businesses()
        .select_related("billing_account__plan")
        .annotate(primary_domain=Subquery(primary))
        .filter(pk=pk)
        .first()
    )


def business_statuses() -> list[tuple[str, str]]:
    return [(value, label) for value, label in TenantStatus.choices if value not in POOL_STATUSES]


@dataclass(frozen=True)
class Activity:
    last_login: datetime | None
    appointments_this_month: int
    sms_this_month: int


def _month_start(tenant: Tenant, now: datetime) -> datetime:
    local = timezone.localtime(now, ZoneInfo(tenant.time_zone or settings.TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _activity_query() -> str:
    q = connection.ops.quote_name
    user, appointment, outbox = (
        q(get_user_model()._meta.db_table),
        q(Appointment._meta.db_table),
        q(OutboxMessage._meta.db_table),
    )
    # Three small aggregates in one round trip, against the tables of the schema on the search_path.
    return (
        f"SELECT (SELECT max(last_login) FROM {user}),"
        f" (SELECT count(*) FROM {appointment} WHERE created_at >= %s AND status <> %s),"
        f" (SELECT count(*) FROM {outbox} WHERE channel = %s AND status IN (%s, %s) AND sent_at >= %s)"
    )


def _activity_of(tenant: Tenant, now: datetime) -> Activity:
    start = _month_start(tenant, now)
    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        cursor.execute(
            _activity_query(),
            [
                start,
                AppointmentStatus.HELD,  # a hold is a customer still filling in the form, not a booking
                Channel.SMS,
                MessageStatus.SENT,
                MessageStatus.DELIVERED,
                start,
            ],
        )
        last_login, appointments, sms = cursor.fetchone()
    return Activity(last_login=last_login, appointments_this_month=appointments, sms_this_month=sms)


def business_activity(tenants) -> dict[int, Activity]:
    """Last login, appointments booked and SMS sent this month (the business's time zone), per business.

    One query per business's schema, for the rows shown only, kept briefly in the platform cache.
    SMS are counted as the billing quota counts them (handed to the gateway).
    """
    tenants = list(tenants)
    now = timezone.now()
    cache = caches["platform"]
    keys = {
        tenant.pk: f"staffadmin:activity:{tenant.schema_name}:{_month_start(tenant, now):%Y-%m}"
        for tenant in tenants
    }
    try:
        cached = cache.get_many(list(keys.values()))
    except Exception:
        logger.warning("staff admin: cache unavailable, counting afresh", exc_info=True)
        cached = {}
    result, fresh = {}, {}
    for tenant in tenants:
        hit = cached.get(keys[tenant.pk])
        if hit is None:
            hit = fresh[keys[tenant.pk]] = _activity_of(tenant, now)
        result[tenant.pk] = hit
    if fresh:
        try:
            cache.set_many(fresh, timeout=getattr(settings, "STAFFADMIN_COUNTS_CACHE_SECONDS", 60))
        except Exception:  # counting again next time is the only cost
            logger.warning("staff admin: cache unavailable, counts not kept", exc_info=True)
    return result


# --- One business ------------------------------------------------------------------------------------


def billing_account_of(tenant: Tenant) -> BillingAccount | None:
    return BillingAccount.objects.select_related("plan").filter(tenant_id=tenant.pk).first()


def status_trail(tenant: Tenant, *, limit: int = 30) -> list[StatusChange]:
    return list(StatusChange.objects.filter(tenant_id=tenant.pk).order_by("-created_at", "-id")[:limit])


def domains_of(tenant: Tenant) -> list[Domain]:
    return list(Domain.objects.filter(tenant_id=tenant.pk).order_by("-is_primary", "domain"))


@dataclass(frozen=True)
class BusinessUser:
    id: int
    name: str
    username: str
    role: str
    role_label: str
    last_login: datetime | None
    is_active: bool


def business_users(tenant: Tenant) -> list[BusinessUser]:
    """The business's logins (its own schema), owner first."""
    user_model = get_user_model()
    roles = dict(user_model._meta.get_field("role").choices)
    order = {"owner": 0, "manager": 1, "staff": 2}
    with schema_context(tenant.schema_name):
        rows = list(
            user_model.objects.values(
                "id", "first_name", "last_name", "username", "role", "last_login", "is_active"
            )
        )
    users = [
        BusinessUser(
            id=row["id"],
            name=f"{row['first_name']} {row['last_name']}".strip() or row["username"],
            username=row["username"],
            role=row["role"],
            role_label=str(roles.get(row["role"], row["role"])),
            last_login=row["last_login"],
            is_active=row["is_active"],
        )
        for row in rows
    ]
    return sorted(users, key=lambda u: (not u.is_active, order.get(u.role, 9), u.name.lower()))


def active_impersonations(tenant: Tenant) -> list[ImpersonationGrant]:
    """Grants not ended yet: links still to be used, and sessions still running."""
    now = timezone.now()
    return list(
        ImpersonationGrant.objects.filter(tenant_id=tenant.pk, ended_at__isnull=True)
        .filter(Q(used_at__isnull=True, expires_at__gt=now) | Q(used_at__isnull=False, ends_at__gt=now))
        .order_by("-created_at")
    )


# --- The audit log -----------------------------------------------------------------------------------


def staff_action_list(*, tenant: Tenant | None = None, action: str = "", query: str = "") -> QuerySet:
    actions = StaffAction.objects.all()
    if tenant is not None:
        actions = actions.filter(tenant_id=tenant.pk)
    if action:
        actions = actions.filter(action=action)
    query = query.strip()
    if query:
        actions = actions.filter(
            Q(staff_username__icontains=query) | Q(tenant_label__icontains=query) | Q(reason__icontains=query)
        )
    return actions.order_by("-created_at", "-id")


# --- Two-factor devices ------------------------------------------------------------------------------


def totp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()
