from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from .services import staff_password_reset_mail_send


@shared_task(name="staffadmin.password_reset_mail", ignore_result=True)
def staff_password_reset_mail(*, address: str, ip: str | None = None, language: str = "") -> int:
    """Mail a password-reset link to the platform staff account with `address`, if there is one.

    Runs in `public` (where staff live), away from the request: the request takes as long either way.
    """
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        return staff_password_reset_mail_send(address=address, ip=ip, language=language)
