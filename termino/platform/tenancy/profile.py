"""Changes a business makes to its own public-schema row from its backoffice.

The backoffice runs in the business's schema; these are the only functions through which it writes the
`Tenant` row. Saving invalidates the routing cache (signals), so the next request sees the change.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from termino.shared import timeutils
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
    try:
        timeutils.zone(time_zone)  # an IANA name that zoneinfo knows and can load
    except ValueError as exc:
        raise InvalidRequest(
            _("“%(value)s” is not a time zone we know. Please choose one from the list.")
            % {"value": time_zone}
        ) from exc
    if language not in LANGUAGES:
        raise InvalidRequest(_("Unsupported language: %(language)s") % {"language": language})
    row = Tenant.objects.select_for_update().get(pk=tenant.pk)
    row.time_zone, row.language = time_zone, language
    row.save(update_fields=["time_zone", "language"])
    tenant.time_zone, tenant.language = time_zone, language
    return row
