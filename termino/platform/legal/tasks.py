"""Telling every business owner of a change of sub-processors (Art. 28(2) GDPR): one task fans out, one
task per business sends one e-mail. Runs in `public` (owners' addresses are in the Tenant rows)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from termino.platform.tenancy.models import POOL_STATUSES, Tenant
from termino.platform.tenancy.routing import primary_url

from .models import ChangeNotice, Operator, SubProcessorChange

logger = logging.getLogger(__name__)


def businesses_to_notify():
    """Every business whose data we hold: live, suspended and cancelled ones (their data is kept until the
    retention period ends), not pool schemas."""
    return (
        Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
        .exclude(status__in=POOL_STATUSES)
        .exclude(email="")
        .order_by("pk")
    )


@shared_task(name="legal.subprocessor_change_fan_out", acks_late=True, ignore_result=True)
def subprocessor_change_fan_out(*, change_id: int) -> int:
    connection.set_schema_to_public()
    ids = list(businesses_to_notify().values_list("pk", flat=True))
    SubProcessorChange.objects.filter(pk=change_id).update(businesses=len(ids))
    for tenant_id in ids:
        subprocessor_change_mail.delay(change_id=change_id, tenant_id=tenant_id)
    return len(ids)


def change_mail_send(*, change: SubProcessorChange, tenant: Tenant) -> bool:
    """The e-mail to one owner, once: the notice row is inserted first, in the same transaction as the
    sending, so a second worker with the same task waits on the row and then finds it."""
    try:
        with transaction.atomic():
            ChangeNotice.objects.create(
                change=change, tenant=tenant, email=tenant.email, sent_at=timezone.now()
            )
            operator = Operator.current()
            with translation.override(tenant.language or settings.LANGUAGE_CODE):
                context = {
                    "owner_name": tenant.owner_name,
                    "business": tenant.name,
                    "change": change,
                    "provider": change.subprocessor,
                    "operator": operator,
                    "dpa_url": primary_url(tenant, "/data-protection/dpa/"),
                }
                subject = " ".join(
                    render_to_string("legal/email/subprocessor_change_subject.txt", context).split()
                )
                body = render_to_string("legal/email/subprocessor_change_body.txt", context)
            reply_to = [operator.email] if operator.email else None
            EmailMessage(subject=subject, body=body, to=[tenant.email], reply_to=reply_to).send()
    except IntegrityError:
        return False  # sent already
    return True


@shared_task(
    name="legal.subprocessor_change_mail",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=8,
)
def subprocessor_change_mail(*, change_id: int, tenant_id: int) -> bool:
    connection.set_schema_to_public()
    change = SubProcessorChange.objects.select_related("subprocessor").filter(pk=change_id).first()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if change is None or tenant is None or not tenant.email:
        return False
    return change_mail_send(change=change, tenant=tenant)
