"""What the platform adds to /metrics: businesses (and spare schemas) by status, read at every scrape."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import Tenant


def businesses_by_status():
    family = GaugeMetricFamily(
        "termino_businesses", "Businesses (and spare schemas) by status", labels=["status"]
    )
    rows = Tenant.objects.order_by().values_list("status").annotate(n=Count("pk"))
    for status, count in sorted(rows):
        family.add_metric([status], count)
    yield family
