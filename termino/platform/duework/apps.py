from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DueWorkConfig(AppConfig):
    name = "termino.platform.duework"
    label = "duework"
    verbose_name = _("Due work")
