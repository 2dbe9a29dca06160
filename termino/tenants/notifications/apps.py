from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "termino.tenants.notifications"
    label = "notifications"
    verbose_name = _("Messages")

    def ready(self):
        from . import due, events

        events.subscribe()
        due.register()
