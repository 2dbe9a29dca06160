from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "termino.platform.legal"
    label = "legal"
    verbose_name = "Legal documents"
