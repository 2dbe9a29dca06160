from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "termino.platform.billing"
    label = "billing"
    verbose_name = _("Plans and billing")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (a trial account for every new business)
