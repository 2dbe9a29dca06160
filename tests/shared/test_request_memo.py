"""A read made once per request: never shared between requests or businesses, never stale after a write."""

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.shared.request_memo import RequestMemoMiddleware
from termino.tenants.business.models import BusinessSettings

pytestmark = pytest.mark.django_db


def in_a_request(view):
    """Run `view()` as a request through the middleware; what it returns, and the statements it sent."""
    seen = {}

    def handler(_request):
        with CaptureQueriesContext(connection) as queries:
            seen["value"] = view()
        seen["reads"] = [q["sql"] for q in queries if "business_businesssettings" in (q["sql"] or "")]
        return HttpResponse()

    RequestMemoMiddleware(handler)(RequestFactory().get("/"))
    return seen["value"], seen["reads"]


def test_outside_a_request_every_call_reads(business_a):
    with schema_context(business_a.schema):
        BusinessSettings.current()
        with CaptureQueriesContext(connection) as queries:
            BusinessSettings.current(), BusinessSettings.current()
    assert len([q for q in queries if "business_businesssettings" in q["sql"]]) == 2


def test_a_request_reads_once_and_each_caller_gets_its_own_copy(business_a):
    def view():
        first = BusinessSettings.current()
        first.max_open_bookings = 99  # changed in memory only, by one caller
        return first, BusinessSettings.current()

    with schema_context(business_a.schema):
        stored = BusinessSettings.current().max_open_bookings
        (first, second), reads = in_a_request(view)
    assert len(reads) == 1
    assert first is not second and second.max_open_bookings == stored != 99


def test_each_business_keeps_its_own(business_a, business_b):
    for business, limit in ((business_a, 4), (business_b, 6)):
        with schema_context(business.schema):
            BusinessSettings.objects.update_or_create(id=1, defaults={"max_open_bookings": limit})

    def view():
        seen = []
        for business in (business_a, business_b, business_a, business_b):
            with schema_context(business.schema):
                seen.append(BusinessSettings.current().max_open_bookings)
        return seen

    seen, reads = in_a_request(view)
    assert seen == [4, 6, 4, 6] and len(reads) == 2


def test_a_write_is_seen_and_a_rolled_back_one_is_forgotten(business_a):
    def view():
        before = BusinessSettings.current().max_open_bookings
        try:
            with transaction.atomic():
                rules = BusinessSettings.objects.select_for_update().get(id=1)
                rules.max_open_bookings = before + 5
                rules.save()
                during = BusinessSettings.current().max_open_bookings
                raise RuntimeError("the write fails later on")
        except RuntimeError:
            pass
        return before, during, BusinessSettings.current().max_open_bookings

    with schema_context(business_a.schema):
        (before, during, after), _reads = in_a_request(view)
    assert during == before + 5 and after == before


def test_the_next_request_sees_what_another_process_changed(business_a):
    with schema_context(business_a.schema):
        first, _ = in_a_request(lambda: BusinessSettings.current().max_open_bookings)
        BusinessSettings.objects.filter(id=1).update(max_open_bookings=first + 1)  # no signal, as elsewhere
        second, reads = in_a_request(lambda: BusinessSettings.current().max_open_bookings)
    assert second == first + 1 and len(reads) == 1


def test_a_write_before_the_first_read_of_a_keyed_family_is_never_remembered(business_a):
    """`tenancy.primary_domain:<business>`: a Domain written, read, then rolled back is read again."""
    from termino.platform.tenancy.models import Domain
    from termino.platform.tenancy.routing import primary_url

    tenant = business_a.tenant

    def view():
        try:
            with transaction.atomic():
                domain = Domain.objects.get(tenant=tenant, is_primary=True)
                domain.domain = "renamed.localhost"
                domain.save()
                during = primary_url(tenant)
                raise RuntimeError("the rename fails later on")
        except RuntimeError:
            pass
        return during, primary_url(tenant)

    (during, after), _reads = in_a_request(view)
    assert "renamed.localhost" in during and after == primary_url(tenant) and "renamed" not in after
