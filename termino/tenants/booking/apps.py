from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "termino.tenants.booking"
    label = "booking"
    verbose_name = _("Online booking")

    def ready(self):
        from . import subscribers

        subscribers.subscribe()
