"""Which booking pays what (service rules, customers marked or with no-shows, no payment while the
business's Stripe account cannot charge), the customer's pages, and one business never seeing or moving
another's payments or Stripe account."""

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from termino.platform.billing import connect
from termino.platform.billing.models import ConnectAccount, StripeEvent
from termino.tenants.crm.models import Customer
from termino.tenants.payments import services
from termino.tenants.payments.models import CustomerPaymentRule, Payment, PaymentSettings, ServicePaymentRule
from termino.tenants.scheduling.models import Appointment, Series, Service
from tests.conftest import client_for
from tests.tenants.booking.public_helpers import booking_body, public_post
from tests.tenants.scheduling.factories import next_monday, salon

from .conftest import connect_business, deliver, deposit_service
from .helpers import book, manage_token, pay, payment_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "amount", "percent", "expected"),
    [
        ("none", 0, 0, None),
        ("deposit_fixed", 2000, 0, ("deposit", 2000)),
        ("deposit_fixed", 9000, 0, ("deposit", 4800)),  # never more than the price
        ("deposit_percent", 0, 30, ("deposit", 1440)),
        ("prepay", 0, 0, ("prepayment", 4800)),
        ("card_on_file", 2500, 0, ("card_on_file", 0)),
    ],
)
def test_what_a_service_asks_for(shop_a, kind, amount, percent, expected):
    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        ServicePaymentRule.objects.filter(service=service).update(
            kind=kind, amount_cents=amount, percent=percent
        )
        customer = Customer.objects.create(last_name="Neu", email="neu@example.com")
        requirement = services.requirement_for(service=service, customer=customer)
    assert (requirement and (requirement.kind, requirement.amount_cents)) == (expected or None)


def test_a_free_booking_needs_no_payment(shop_a):
    business, _account, _service, _staff = shop_a
    with schema_context(business.schema):
        free, _staff, _room = salon(name="Beratung", price="0")
    answer = book(business, free, at=time(15))
    assert (answer["status"], answer["payment"]) == ("confirmed", None)


def test_customers_marked_or_with_no_shows_pay_a_deposit(shop_a):
    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        ServicePaymentRule.objects.filter(service=service).update(kind="card_on_file", amount_cents=2500)
        PaymentSettings.objects.create(deposit_after_no_shows=2, no_show_deposit_cents=1500)
        marked = Customer.objects.create(last_name="Markiert", email="m@example.com")
        CustomerPaymentRule.objects.create(customer=marked, always_deposit=True)
        assert services.requirement_for(service=service, customer=marked).amount_cents == 1500
        late = Customer.objects.create(last_name="Spaet", email="s@example.com")
        assert services.requirement_for(service=service, customer=late).kind == "card_on_file"
        for hour in (9, 11):
            appointment = Appointment.objects.create(
                service=service,
                customer=late,
                start=next_monday(time(hour)),
                end=next_monday(time(hour, 30)),
                status="no_show",
            )
            assert appointment.pk
        requirement = services.requirement_for(service=service, customer=late)
        assert (requirement.kind, requirement.amount_cents) == ("deposit", 1500)
        ServicePaymentRule.objects.filter(service=service).update(kind="none")
        assert services.requirement_for(service=service, customer=late).amount_cents == 1500


def test_nothing_is_asked_while_the_account_cannot_charge(shop_a, fake_stripe):
    business, account, service, _staff = shop_a
    deliver(fake_stripe, *fake_stripe.restrict_account(account))
    answer = book(business, service)
    assert (answer["status"], answer["payment"]) == ("confirmed", None)


def test_the_return_page_says_what_was_paid_and_what_cancelling_means(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    token = answer["payment"]["token"]
    client = client_for(business.host, "en")
    waiting = client.get(f"/book/payment/{token}/").content.decode()
    assert "Waiting for your payment" in waiting and answer["payment"]["checkout_url"] in waiting
    assert client.get(f"/api/public/v1/payments/{token}/").json() == {
        "status": "pending",
        "booking_status": "held",
        "manage_token": None,
    }
    fake_stripe.pay_checkout(payment_of(business, token).checkout_session_id)  # its events are late ...
    session = payment_of(business, token).checkout_session_id
    page = client.get(
        f"/book/payment/{token}/?session={session}"
    ).content.decode()  # ... the page asks Stripe
    assert "Your appointment is booked" in page
    assert "20,00" in page and "Deposit" in page
    assert "and you get it back in full" in page and "it is kept" in page
    german = client_for(business.host, "de").get(f"/book/payment/{token}/").content.decode()
    assert "Anzahlung" in german
    manage = client.get(f"/book/manage/{manage_token(business, token)}/").content.decode()
    assert "Payments" in manage and "20,00" in manage


def test_giving_up_frees_the_time(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    token = answer["payment"]["token"]
    response = client_for(business.host, "en").post(f"/book/payment/{token}/abandon/")
    assert response.status_code == 302
    assert payment_of(business, token).status == "expired"
    assert (
        fake_stripe.sessions[payment_of(business, token).checkout_session_id]["object"]["status"] == "expired"
    )
    with schema_context(business.schema):
        assert not Appointment.objects.filter(pk=answer["id"]).exists()
    page = client_for(business.host, "en").get(f"/book/payment/{token}/").content.decode()
    assert "The payment was not completed" in page


def test_a_payment_link_of_one_business_is_unknown_at_another(shop_a, business_b):
    business, _account, service, _staff = shop_a
    token = book(business, service)["payment"]["token"]
    other = client_for(business_b.host, "en")
    assert other.get(f"/book/payment/{token}/").status_code == 404
    assert other.get(f"/api/public/v1/payments/{token}/").status_code == 404
    assert other.post(f"/book/payment/{token}/abandon/").status_code == 404
    assert payment_of(business, token).status == "pending"


def test_another_business_s_events_cannot_touch_a_payment(shop_a, business_b, fake_stripe):
    """B's own account reports a payment naming A's payment token: nothing happens at A."""
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    token = answer["payment"]["token"]
    account_b = connect_business(fake_stripe, business_b)
    forged = fake_stripe.event(
        "checkout.session.completed",
        {
            "id": "cs_test_forged",
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "payment_intent": "pi_forged",
            "metadata": {"payment": token, "schema": business.schema},
        },
        account=account_b,
    )
    assert deliver(fake_stripe, forged).json()["result"] == "ignored: no payment for this session"
    assert payment_of(business, token).status == "pending"
    assert StripeEvent.objects.get(event_id=forged["id"]).tenant_id == business_b.tenant.pk


def test_a_business_moves_money_only_on_its_own_account(shop_a, business_b, fake_stripe):
    """Refunding A's payment intent through B's account is refused by Stripe: B's calls name B's account."""
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    pay(fake_stripe, business, answer["payment"]["token"])
    intent = payment_of(business, answer["payment"]["token"]).payment_intent_id
    connect_business(fake_stripe, business_b)
    with pytest.raises(connect.PaymentProviderError):
        connect.refund_create(tenant=business_b.tenant, params={"payment_intent": intent}, key="k-isolation")
    assert not fake_stripe.refunds
    # And the account row says whose it is, once.
    assert ConnectAccount.objects.filter(tenant_id=business_b.tenant.pk).count() == 1


def test_another_business_cannot_see_or_refund_a_s_payments(shop_a, business_b, fake_stripe):
    from tests.tenants.backoffice.helpers import log_in_as

    business, _account, service, _staff = shop_a
    answer = book(business, service)
    pay(fake_stripe, business, answer["payment"]["token"])
    payment = payment_of(business, answer["payment"]["token"])
    with schema_context(business_b.schema):
        deposit_service()  # B has payments of its own kind, ids differ
    owner_b = log_in_as(business_b)
    assert payment.description not in owner_b.get("/payments/").content.decode()
    assert owner_b.get(f"/payments/appointments/{answer['id']}/").status_code == 404
    response = owner_b.post(
        f"/payments/appointments/{answer['id']}/refund/{payment.pk}/", {f"r{payment.pk}-confirm": "on"}
    )
    assert response.status_code == 404
    assert payment_of(business, payment.token).refunded_cents == 0
    with schema_context(business.schema):
        assert Payment.objects.count() == 1


def test_the_booking_page_says_what_is_paid_online(shop_a, fake_stripe):
    business, account, _service, _staff = shop_a
    page = client_for(business.host, "en").get("/book/").content.decode()
    assert "Deposit of 20,00\xa0€ paid online when booking" in page
    assert "Anzahlung von 20,00\xa0€" in client_for(business.host, "de").get("/book/").content.decode()
    deliver(fake_stripe, *fake_stripe.restrict_account(account))
    assert "paid online" not in client_for(business.host, "en").get("/book/").content.decode()


def test_each_card_says_its_own_rule_and_more_services_cost_no_more_queries(shop_a):
    """The notes are read once per page, not once per service card (a salon lists dozens)."""
    business, _account, _service, _staff = shop_a
    client = client_for(business.host, "en")

    def page_and_queries():
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/book/").content.decode()
        return page, len(queries)

    page_and_queries()  # the first view of a page keeps what later ones reuse
    _, before = page_and_queries()
    rules = {"Card": ("card_on_file", 1500), "Prepaid": ("prepay", 0), "Free": ("none", 0), "Plain": None}
    with schema_context(business.schema):
        for name, rule in rules.items():
            made = Service.objects.create(name=name, duration_minutes=30, price="30.00", bookable_online=True)
            if rule:
                ServicePaymentRule.objects.create(service=made, kind=rule[0], amount_cents=rule[1])
    page, after = page_and_queries()
    assert after == before

    def card(name: str) -> str:
        begins = page.index(f'data-name="{name}"')
        return page[begins : page.index("</button>", begins)]

    assert "Card needed to book; charged 15,00\xa0€ only if you do not come" in card("Card")
    assert "Paid online when booking" in card("Prepaid")
    assert "bk-pay-note" not in card("Free") and "bk-pay-note" not in card("Plain")


def test_a_course_that_asks_for_money_is_refused_online_and_nothing_is_stored(shop_a):
    """A course is booked as a whole without a checkout: one whose service (or customer) asks for a payment
    is refused with a sentence, before anyone is charged or anything is kept."""
    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        Service.objects.filter(pk=service.pk).update(online_series_count=4, online_series_interval_weeks=1)
        before = (Appointment.objects.count(), Customer.objects.count(), Series.objects.count())
    response = public_post(business.host, "bookings/", booking_body(service, next_monday(time(10))))
    assert response.status_code == 400, response.content
    assert "not possible for a course" in response.json()["detail"]
    with schema_context(business.schema):
        assert (Appointment.objects.count(), Customer.objects.count(), Series.objects.count()) == before
        assert not Payment.objects.exists()
        # Without the payment rule the same course is booked whole.
        ServicePaymentRule.objects.filter(service=service).update(kind="none")
    answer = public_post(business.host, "bookings/", booking_body(service, next_monday(time(10))))
    assert answer.status_code == 201, answer.content
    assert len(answer.json()["occurrences"]) == 4
