from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitlistConfig(AppConfig):
    name = "termino.tenants.waitlist"
    label = "waitlist"
    verbose_name = _("Waitlist")

    def ready(self):
        from . import due, exports, triggers

        due.register()
        exports.register()
        triggers.connect()
