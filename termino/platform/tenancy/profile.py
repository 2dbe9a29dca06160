"""Changes a business makes to its own public-schema row from its backoffice.

The backoffice runs in the business's schema; these are the only functions through which it writes the
`Tenant` row. Saving invalidates the routing cache (signals), so the next request sees the change.
"""

from zoneinfo import available_timezones

from django.db import transaction

from termino.shared.errors import InvalidRequest

from .models import Tenant

REGISTRATION_FIELDS = ("owner_name", "name", "street", "postcode", "city", "country", "phone", "email")
LANGUAGES = ("de", "en")


@transaction.atomic
def tenant_registration_update(*, tenant: Tenant, **fields) -> Tenant:
    """Owner name, company, address, phone, e-mail: the data given at signup (validated by the caller)."""
    unknown = set(fields) - set(REGISTRATION_FIELDS)
    if unknown:
        raise ValueError(f"not registration fields: {sorted(unknown)}")
    row = Tenant.objects.select_for_update().get(pk=tenant.pk)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=list(fields))
    for name in fields:
        setattr(tenant, name, getattr(row, name))
    return row


@transaction.atomic
def tenant_locale_update(*, tenant: Tenant, time_zone: str, language: str) -> Tenant:
    """The business's time zone (its calendar and customer texts) and the language of customer texts."""
    if time_zone not in available_timezones():
        raise InvalidRequest(f"Unknown time zone: {time_zone}")
    if language not in LANGUAGES:
        raise InvalidRequest(f"Unsupported language: {language}")
    row = Tenant.objects.select_for_update().get(pk=tenant.pk)
    row.time_zone, row.language = time_zone, language
    row.save(update_fields=["time_zone", "language"])
    tenant.time_zone, tenant.language = time_zone, language
    return row
