"""A new business gets its billing account (a trial, no card) the moment provisioning makes it a trial."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from termino.platform.tenancy.models import Tenant, TenantStatus


@receiver(post_save, sender=Tenant)
def _open_trial(sender, instance: Tenant, **kwargs):
    # Provisioning claims a spare row and saves it as `trial` in the signup's transaction: the account is
    # written in that same transaction, so there is never a business without one.
    if instance.status == TenantStatus.TRIAL and instance.slug:
        from .services import billing_account_open

        billing_account_open(tenant=instance)
