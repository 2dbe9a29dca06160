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


@pytest.mark.django_db
@pytest.mark.parametrize("requires_room", [False, True])
def test_the_resources_loaded_are_the_active_ones_that_do_the_service(business_a, requires_room):
    """Staff who offer it, rooms only when it needs one, nobody inactive or offering something else; asked
    for a resource that does not exist, none (the answer is then no slot, as for one that does not offer
    it)."""
    with schema_context(business_a.schema):
        service, staff, room = salon(requires_room=requires_room, staff_count=2)
        away = Resource.objects.create(kind="staff", name="Away", active=False)
        service.resources.add(away)
        _other_service, other_staff, _other_room = salon(staff_count=1, name="Massage")
        day = next_monday().date()

        def loaded(resource_id=None) -> dict[int, str]:
            inputs = selectors.availability_inputs(
                service=service, start_date=day, end_date=day, time_zone="Europe/Berlin",
                resource_id=resource_id,
            )  # fmt: skip
            return {calendar.resource_id: calendar.kind for calendar in inputs["resources"]}

        expected = {person.pk: "staff" for person in staff} | ({room.pk: "room"} if requires_room else {})
        assert loaded() == expected
        assert loaded(staff[1].pk) == {staff[1].pk: "staff"} | ({room.pk: "room"} if requires_room else {})
        assert loaded(other_staff[0].pk) == ({room.pk: "room"} if requires_room else {})
        assert loaded(10**9) == {}
        unknown = selectors.service_free_slots(
            service_id=service.pk, start_date=day, end_date=day, time_zone="Europe/Berlin", resource_id=10**9
        )
        assert unknown.slots == [] and unknown.resource_ids == set()
