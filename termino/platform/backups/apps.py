from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "termino.platform.backups"
    label = "backups"
    verbose_name = _("Backups and restores")

    def ready(self):
        from . import checks  # noqa: F401  (the deploy check of the encryption key)
