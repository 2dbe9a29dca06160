from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "termino.tenants.backoffice"
    label = "backoffice"
    verbose_name = "Backoffice"
