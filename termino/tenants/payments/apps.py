from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "termino.tenants.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from . import exports, message_values, services

        services.register()
        exports.register()
        message_values.register()
