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


@shared_task(name="staffadmin.login_ips_prune", acks_late=True, ignore_result=True)
def login_ips_prune() -> int:
    """Shorten the IPs of platform staff logins older than LOGIN_IP_DAYS (beat: nightly).

    Staff log in on the platform host, so their login events live in `public`, which the per-business
    retention runs do not reach.
    """
    from termino.tenants.accounts.audit import login_ip_cutoff
    from termino.tenants.accounts.services import login_ips_truncate

    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        return login_ips_truncate(older_than=login_ip_cutoff())
