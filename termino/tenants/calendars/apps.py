from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "termino.tenants.calendars"
    label = "calendars"
    verbose_name = _("Calendar sync")

    def ready(self):
        from . import due, push

        push.register()
        due.register()
