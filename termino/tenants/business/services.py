"""Writes of the business's settings that more than one page makes."""

from django.db import transaction

from .models import BusinessSettings

MAX_ORIGINS = 20


class TooManyOrigins(Exception):
    pass


@transaction.atomic
def embed_origin_add(*, origin: str) -> bool:
    """Allow `origin` (already normalised, e.g. "https://www.example.com") to embed the booking page.
    Returns False when it was allowed already; raises TooManyOrigins beyond MAX_ORIGINS."""
    rules = BusinessSettings.objects.select_for_update().get(pk=BusinessSettings.current().pk)
    origins = rules.origins
    if origin in origins:
        return False
    if len(origins) >= MAX_ORIGINS:
        raise TooManyOrigins
    rules.allowed_origins = "\n".join([*origins, origin])
    rules.save(update_fields=["allowed_origins"])
    return True
