from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "termino.tenants.calendars"
    label = "calendars"
    verbose_name = _("Calendar sync")

    def ready(self):
        from . import checks, due, push  # noqa: F401  (checks: the deploy check of the encryption key)

        push.register()
        due.register()
