"""Keep the routing cache true: forget a host once a change to its domain or tenant is committed."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_tenants.signals import tenant_delete_callback

from .models import Domain, Tenant
from .routing import forget_hosts, hosts_of


@receiver(pre_save, sender=Domain)
def _remember_old_host(sender, instance: Domain, **kwargs):
    instance._old_host = (
        Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=Domain)
@receiver(post_delete, sender=Domain)
def _domain_changed(sender, instance: Domain, **kwargs):
    hosts = [instance.domain, getattr(instance, "_old_host", None)]
    transaction.on_commit(lambda: forget_hosts(hosts))


# Deleting a tenant deletes its Domain rows by cascade, each of which forgets its own host.
@receiver(post_save, sender=Tenant)
def _tenant_changed(sender, instance: Tenant, **kwargs):
    hosts = hosts_of(instance)
    transaction.on_commit(lambda: forget_hosts(hosts))


# django-tenants listens to every model's post_delete for its schema drop, which denies every other model
# Django's fast delete (one DELETE, not a SELECT of the rows first). It concerns only the Tenant: connected
# for that model alone, with the same effect.
post_delete.disconnect(tenant_delete_callback)
post_delete.connect(tenant_delete_callback, sender=Tenant, dispatch_uid="django-tenants-drop-schema")
