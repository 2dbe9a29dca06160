from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "termino.platform.tenancy"
    label = "tenancy"
    verbose_name = _("Businesses")

    def ready(self) -> None:
        from termino.shared.observability import metrics as shared_metrics

        from . import checks, metrics, signals  # noqa: F401  (Citus settings check; routing-cache invalidation)

        shared_metrics.register_live(metrics.businesses_by_status)
