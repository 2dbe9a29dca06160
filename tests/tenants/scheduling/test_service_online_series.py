"""A service booked online as a series (a course): the database keeps its setting sensible whatever writes
it (off, or 2 to SERIES_MAX_OCCURRENCES appointments; every 1 to 4 weeks), and the label says it in words."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from django_tenants.utils import schema_context

from termino.tenants.scheduling.models import (
    ONLINE_SERIES_MAX_INTERVAL_WEEKS,
    SERIES_MAX_OCCURRENCES,
    Service,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("count", "weeks"),
    [(1, 1), (SERIES_MAX_OCCURRENCES + 1, 1), (6, 0), (6, ONLINE_SERIES_MAX_INTERVAL_WEEKS + 1), (0, 0)],
)
def test_the_database_refuses_a_series_that_makes_no_sense(business_a, count, weeks):
    with schema_context(business_a.schema):
        with pytest.raises(IntegrityError, match="service_online_series"), transaction.atomic():
            Service.objects.create(
                name="Kurs",
                duration_minutes=60,
                online_series_count=count,
                online_series_interval_weeks=weeks,
            )
        service = Service.objects.create(name="Schnitt", duration_minutes=30)
        with pytest.raises(IntegrityError), transaction.atomic():
            Service.objects.filter(pk=service.pk).update(
                online_series_count=count, online_series_interval_weeks=weeks
            )  # no model code runs on an update: the database alone refuses it


@pytest.mark.parametrize(
    ("count", "weeks"), [(0, 1), (2, 1), (SERIES_MAX_OCCURRENCES, ONLINE_SERIES_MAX_INTERVAL_WEEKS)]
)
def test_the_database_accepts_off_and_every_sensible_series(business_a, count, weeks):
    with schema_context(business_a.schema):
        service = Service.objects.create(
            name="Kurs", duration_minutes=60, online_series_count=count, online_series_interval_weeks=weeks
        )
        service.refresh_from_db()
        assert (service.online_series_count, service.online_series_interval_weeks) == (count, weeks)
        assert service.online_series == (count >= 2)


def test_the_label_says_how_many_and_how_often_in_german_and_english():
    weekly = Service(name="Yoga", duration_minutes=60, online_series_count=6, online_series_interval_weeks=1)
    fortnightly = Service(
        name="Yoga", duration_minutes=60, online_series_count=3, online_series_interval_weeks=2
    )
    with translation.override("en"):
        assert weekly.online_series_label() == "Course: 6 appointments, weekly"
        assert fortnightly.online_series_label() == "Course: 3 appointments, every 2 weeks"
    with translation.override("de"):
        assert weekly.online_series_label() == "Kurs: 6 Termine, wöchentlich"
        assert fortnightly.online_series_label() == "Kurs: 3 Termine, alle 2 Wochen"
    assert Service(name="Schnitt", duration_minutes=30).online_series_label() == ""
