"""The roles of the people of a business, and what each may do — for pages, the API and the lifecycle alike.

Owners and managers run the whole business; a staff member works only in their own calendar column. In
the lowest layer (the business itself), so logins (accounts) and the calendar (scheduling) both read it
and neither needs the other for it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


EVERYONE = (Role.OWNER, Role.MANAGER, Role.STAFF)
MANAGERS = (Role.OWNER, Role.MANAGER)
OWNER = (Role.OWNER,)


def is_manager(user) -> bool:
    return user.is_authenticated and user.role in MANAGERS


def own_resource_ids(user) -> list[int] | None:
    """The calendar columns a user may work on: None means all of them (owners, managers)."""
    if is_manager(user):
        return None
    resource = getattr(user, "resource", None)
    return [resource.pk] if resource is not None else []
