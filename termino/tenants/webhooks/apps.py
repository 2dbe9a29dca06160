from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "termino.tenants.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from . import due, recording

        recording.subscribe()
        due.register()
