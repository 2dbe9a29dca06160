from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from termino.tenants.crm.models import Customer
from termino.tenants.scheduling.models import ACTIVE_STATUSES, Appointment


def dashboard(*, user, tenant) -> dict:
    """Today at a glance, in the business's own time zone."""
    zone = ZoneInfo(tenant.time_zone)
    today = datetime.now(zone).date()
    start = datetime.combine(today, time.min, tzinfo=zone)
    week_start = start - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=7)
    active = Appointment.objects.filter(status__in=ACTIVE_STATUSES)
    todays = (
        active.filter(start__gte=start, start__lt=start + timedelta(days=1))
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
