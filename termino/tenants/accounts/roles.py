"""What each role may do, for pages and API alike.

Owners and managers run the whole business; a staff member works only in their own calendar column.
"""

from .models import Role

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
