"""A customer's data export (Art. 15 GDPR) holds their waitlist entries, the offers made to them and their
payments; another customer's never."""

import json

import pytest
from django_tenants.utils import schema_context

from termino.shared import timeutils
from termino.tenants.payments.models import Payment, PaymentKind, PaymentStatus
from termino.tenants.privacy import services as privacy
from termino.tenants.privacy.exports import SECTIONS, export_csv_zip

from .helpers import tight_day, waiting

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_the_export_lists_waitlist_entries_offers_and_payments_of_this_customer_only(business_a):
    with schema_context(business_a.schema):
        service, _staff, start, _booked = tight_day(name="Physiotherapie")
        (mine, _token), (theirs, _other) = waiting(service, 2, day=start.date())
        Payment.objects.create(
            customer=mine.customer, kind=PaymentKind.DEPOSIT, status=PaymentStatus.SUCCEEDED,
            description="Anzahlung", amount_cents=2000, refunded_cents=500, token="t-mine",
            paid_at=timeutils.now(),
        )  # fmt: skip
        Payment.objects.create(
            customer=theirs.customer, kind=PaymentKind.DEPOSIT, description="x", amount_cents=999,
            token="t-theirs",
        )  # fmt: skip
        data = privacy.customer_export(customer=mine.customer)
        archive = export_csv_zip(data)
    assert [(e["id"], e["service"], e["status"]) for e in data["waitlist"]] == [
        (mine.pk, "Physiotherapie", "waiting")
    ]
    assert data["waitlist"][0]["date_from"] == start.date().isoformat()
    assert [(p["kind"], p["amount"], p["refunded"]) for p in data["payments"]] == [
        ("deposit", "20.00", "5.00")
    ]
    assert data["waitlist_offers"] == []
    assert "9.99" not in json.dumps(data) and str(theirs.pk) not in [str(e["id"]) for e in data["waitlist"]]
    for section in ("waitlist", "waitlist_offers", "payments"):
        assert section in SECTIONS
        assert all(list(row) == SECTIONS[section] for row in data[section])
    assert b"waitlist.csv" in archive and b"payments.csv" in archive
