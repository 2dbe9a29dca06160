from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffAdminConfig(AppConfig):
    name = "termino.platform.staffadmin"
    label = "staffadmin"
    verbose_name = _("Platform staff")

    def ready(self) -> None:
        from django.contrib import admin

        from .admin_site import StaffOnlyAdminSite

        # Django's admin at /admin/ edits plans, billing accounts and businesses: it must not be an open
        # door around the second factor. It admits only staff signed in through /staff/ (password and
        # TOTP) and sends everyone else to that login. (django-otp documents this class swap for
        # OTPAdminSite; ours keeps one login page, with its enrolment and rate limits, for both.)
        admin.site.__class__ = StaffOnlyAdminSite
