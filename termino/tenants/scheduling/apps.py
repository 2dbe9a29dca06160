from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "termino.tenants.scheduling"
    label = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self):
        from . import availability_version, due, events, history

        events.subscribe(history.record)
        availability_version.connect()
        due.register()
