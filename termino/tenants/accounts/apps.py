from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "termino.tenants.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from . import signals, token_memory  # noqa: F401  (signals connects the login audit receivers)

        token_memory.connect()
