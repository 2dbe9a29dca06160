import logging

from celery import shared_task
from django.conf import settings

from termino.platform.tenancy.routing import primary_url
from termino.platform.tenancy.selectors import tenant_by_schema
from termino.shared.tasks import TenantTask

from . import password_reset

logger = logging.getLogger(__name__)


@shared_task(base=TenantTask, name="accounts.password_reset_mail", ignore_result=True)
def password_reset_mail(*, schema_name: str, address: str, language: str = "") -> int:
    """Mail a password-reset link to each login of this business with `address`; usually none or one.

    Runs away from the request, so the request takes as long for an unknown address as for a known one.
    The link is built from the business's primary domain. Returns how many mails went out.
    """
    tenant = tenant_by_schema(schema_name)
    sent = 0
    for user in password_reset.reset_users(address or ""):
        path = password_reset.reset_path(
            user=user, url_name="accounts:password_reset_confirm", urlconf=settings.ROOT_URLCONF
        )
        try:
            password_reset.reset_mail_send(
                user=user, url=primary_url(tenant, path), place=tenant.name, language=language
            )
        except Exception:  # SMTP and network alike: the person can ask again; nothing else to undo
            logger.warning(
                "password reset mail for user %s of %s failed", user.pk, schema_name, exc_info=True
            )
            continue
        sent += 1
    return sent
