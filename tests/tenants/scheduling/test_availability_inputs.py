"""What the selector loads for the availability engine (one statement), against the real database."""

import pytest
from django_tenants.utils import schema_context

from termino.tenants.scheduling import availability, selectors
from termino.tenants.scheduling import services as scheduling_services
from termino.tenants.scheduling.models import Resource

from .factories import next_monday, salon


@pytest.mark.django_db
@pytest.mark.parametrize("requires_room", [False, True])
def test_one_resource_loads_only_what_it_needs_and_answers_as_the_whole_business(business_a, requires_room):
    """Asked for one staff member (or room), the selector loads that one and the resources of the other kind
    only; the slots are exactly those the whole business's inputs give for that resource."""
    with schema_context(business_a.schema):
        service, staff, room = salon(requires_room=requires_room, staff_count=3)
        other = Resource.objects.create(kind="staff", name="Offers something else")
        day = next_monday().date()
        scheduling_services.appointment_create(
            booking=scheduling_services.Booking(service=service, start=next_monday(), staff=staff[0])
        )
        for asked in (staff[0], staff[1], *([room] if requires_room else [])):
            whole = selectors.availability_inputs(
                service=service, start_date=day, end_date=day, time_zone="Europe/Berlin"
            )
            expected = availability.free_slots(**{**whole, "resource_id": asked.pk})
            offer = selectors.service_free_slots(
                service_id=service.pk, start_date=day, end_date=day, time_zone="Europe/Berlin",
                resource_id=asked.pk,
            )  # fmt: skip
            assert offer.slots == expected and expected
            loaded_kinds = {r.pk for r in (*staff, room) if r.pk in offer.resource_ids}
            same_kind = [r.pk for r in (*staff, room) if r.kind == asked.kind]
            assert loaded_kinds & set(same_kind) == {asked.pk}
        refused = selectors.service_free_slots(
            service_id=service.pk,
            start_date=day,
            end_date=day,
            time_zone="Europe/Berlin",
            resource_id=other.pk,
        )
        assert refused.slots == [] and other.pk not in refused.resource_ids
