"""What the team sees and does: the payments list and its CSV, an appointment's refunds (full or part)
and the card-on-file fee with confirmation, the customer's payments and deposit rule, the Stripe account
page with its onboarding round trip, and the staff API. Managers and owners only; staff get 403."""

import csv
import io

import pytest
from django_tenants.utils import schema_context

from termino.tenants.accounts.services import api_token_create
from termino.tenants.payments.models import CustomerPaymentRule, Payment, PaymentSettings, ServicePaymentRule
from termino.tenants.scheduling.models import Appointment
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as, make_user

from .helpers import book, pay, payment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    answer = book(business, service)
    pay(fake_stripe, business, answer["payment"]["token"])
    return business, answer, payment_of(business, answer["payment"]["token"])


def test_the_list_and_its_csv_show_payments_refunds_and_fees(paid, django_capture_on_commit_callbacks):
    business, answer, payment = paid
    owner = log_in_as(business)
    page = owner.get("/payments/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "20,00" in body and "Paid" in body and "Lena Fischer" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            f"/payments/appointments/{answer['id']}/refund/{payment.pk}/",
            {f"r{payment.pk}-amount": "5,00", f"r{payment.pk}-confirm": "on"},
        )
    assert response.status_code == 302
    rows = list(
        csv.reader(io.StringIO(b"".join(owner.get("/payments/export.csv").streaming_content).decode()))
    )
    assert rows[0][:4] == ["created_at", "paid_at", "kind", "status"]
    assert rows[1][2:4] == ["deposit", "succeeded"]
    assert rows[1][6:9] == ["20.00", "5.00", "0.60"]
    assert "5.00 succeeded staff" in rows[1][11]


def test_a_name_typed_as_a_formula_stays_text_in_the_csv(paid):
    """The customer types her own name on the booking page: in the owner's spreadsheet it is never run."""
    business, _answer, payment = paid
    with schema_context(business.schema):
        customer = payment.customer
        customer.first_name, customer.last_name = '=HYPERLINK("https://evil.example")', "-1+1"
        customer.save(update_fields=["first_name", "last_name"])
        Payment.objects.filter(pk=payment.pk).update(description="@SUM(1)")
    rows = list(
        csv.reader(
            io.StringIO(b"".join(log_in_as(business).get("/payments/export.csv").streaming_content).decode())
        )
    )
    assert rows[1][4] == "'@SUM(1)"
    assert rows[1][5].startswith("'=HYPERLINK(")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)


def test_a_refund_needs_confirmation_and_cannot_exceed_what_is_left(
    paid, fake_stripe, django_capture_on_commit_callbacks
):
    business, answer, payment = paid
    owner = log_in_as(business)
    url = f"/payments/appointments/{answer['id']}/refund/{payment.pk}/"
    assert owner.post(url, {f"r{payment.pk}-amount": "5,00"}).status_code == 400  # not confirmed
    too_much = owner.post(url, {f"r{payment.pk}-amount": "25,00", f"r{payment.pk}-confirm": "on"})
    assert too_much.status_code == 400
    assert "You can refund between 0.01 and 20.00" in too_much.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(url, {f"r{payment.pk}-amount": "", f"r{payment.pk}-confirm": "on"})  # all that is left
    assert payment_of(business, payment.token).refunded_cents == 2000
    assert not [
        r for r in fake_stripe.requests if r["path"] == "/v1/refunds" and r["params"]["amount"] != "2000"
    ]
    page = owner.get(f"/payments/appointments/{answer['id']}/").content.decode()
    assert "Refunded by the team" in page


def test_the_fee_is_charged_from_the_appointment_page_with_confirmation(shop_a, fake_stripe):
    business, _account, service, _staff = shop_a
    with schema_context(business.schema):
        ServicePaymentRule.objects.filter(service=service).update(kind="card_on_file", amount_cents=3000)
    answer = book(business, service)
    pay(fake_stripe, business, answer["payment"]["token"])
    owner = log_in_as(business)
    page = owner.get(f"/payments/appointments/{answer['id']}/").content.decode()
    assert "The fee can be charged only for a no-show" in page
    with schema_context(business.schema):
        Appointment.objects.filter(pk=answer["id"]).update(status="no_show")
    assert "Charge fee" in owner.get(f"/payments/appointments/{answer['id']}/").content.decode()
    assert owner.post(f"/payments/appointments/{answer['id']}/fee/", {}).status_code == 400  # not confirmed
    assert owner.post(f"/payments/appointments/{answer['id']}/fee/", {"confirm": "on"}).status_code == 302
    with schema_context(business.schema):
        fee = Payment.objects.get(kind="fee")
        assert (fee.status, fee.amount_cents, fee.appointment_id) == ("succeeded", 3000, answer["id"])
    assert (
        "The fee has been charged already."
        in owner.get(f"/payments/appointments/{answer['id']}/").content.decode()
    )


def test_staff_members_cannot_see_or_move_money(paid):
    business, answer, payment = paid
    staff = log_in_as(business, "staff")
    for url in (
        "/payments/",
        "/payments/export.csv",
        "/payments/settings/",
        f"/payments/appointments/{answer['id']}/",
    ):
        assert staff.get(url).status_code == 403, url
    response = staff.post(
        f"/payments/appointments/{answer['id']}/refund/{payment.pk}/",
        {f"r{payment.pk}-confirm": "on"},
    )
    assert response.status_code == 403
    assert payment_of(business, payment.token).refunded_cents == 0


def test_rules_and_policy_are_set_on_the_settings_page(shop_a):
    business, _account, service, _staff = shop_a
    owner = log_in_as(business)
    page = owner.get("/payments/settings/").content.decode()
    assert "Enabled" in page and "Haarschnitt" in page
    response = owner.post(
        "/payments/settings/",
        {
            "form": "service",
            "service": service.pk,
            f"s{service.pk}-kind": "deposit_percent",
            f"s{service.pk}-percent": "25",
        },
    )
    assert response.status_code == 302
    bad = owner.post(
        "/payments/settings/",
        {
            "form": "service",
            "service": service.pk,
            f"s{service.pk}-kind": "deposit_fixed",
            f"s{service.pk}-amount": "0,10",
        },
    )
    assert bad.status_code == 400 and "at least 0.50" in bad.content.decode()
    owner.post(
        "/payments/settings/",
        {
            "form": "policy",
            "refund_before_cutoff_percent": "80",
            "deposit_after_no_shows": "2",
            "no_show_deposit": "15,00",
        },
    )
    with schema_context(business.schema):
        rule = ServicePaymentRule.objects.get(service=service)
        assert (rule.kind, rule.percent) == ("deposit_percent", 25)
        policy = PaymentSettings.current()
        assert (
            policy.refund_before_cutoff_percent,
            policy.deposit_after_no_shows,
            policy.no_show_deposit_cents,
        ) == (80, 2, 1500)
    # 25 % of 48,00 €
    assert book(business, service)["payment"]["amount_cents"] == 1200


def test_the_owner_connects_stripe_and_comes_back_enabled(business_a, fake_stripe):
    owner = log_in_as(business_a)
    assert "Not connected" in owner.get("/payments/settings/").content.decode()
    response = owner.post("/payments/connect/")
    assert response.status_code == 303 and response["Location"].startswith(
        f"{fake_stripe.base_url}/connect/onboard/"
    )
    assert "Pending" in owner.get("/payments/settings/").content.decode()
    account_id = next(iter(fake_stripe.accounts))
    fake_stripe.complete_onboarding(account_id)  # finished at Stripe; the event is still on its way
    assert owner.get("/payments/connect/return/").status_code == 302
    assert "Enabled" in owner.get("/payments/settings/").content.decode()
    refreshed = owner.get("/payments/connect/refresh/")
    assert refreshed["Location"].startswith(f"{fake_stripe.base_url}/connect/onboard/")
    manager = log_in_as(business_a, "manager")
    assert manager.post("/payments/connect/").status_code == 403  # the owner's decision


def test_the_customer_page_shows_payments_and_the_deposit_rule(paid, fake_stripe):
    business, _answer, payment = paid
    owner = log_in_as(business)
    customer_id = payment.customer_id
    page = owner.get(f"/customers/{customer_id}/").content.decode()
    assert "Always ask this customer for a deposit" in page and "20,00" in page
    owner.post(f"/payments/customers/{customer_id}/deposit/", {"always_deposit": "1"})
    with schema_context(business.schema):
        assert CustomerPaymentRule.objects.get(customer_id=customer_id).always_deposit


def test_the_staff_api_lists_refunds_and_charges(paid, fake_stripe, django_capture_on_commit_callbacks):
    business, answer, payment = paid
    with schema_context(business.schema):
        owner = make_user(business, "manager")
        token = api_token_create(user=owner, name="t").key
    api = client_for(business.host, "en")
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    listed = api.get(f"/api/v1/payments/?appointment={answer['id']}").json()
    assert listed["count"] == 1
    assert listed["results"][0]["amount_cents"] == 2000
    with django_capture_on_commit_callbacks(execute=True):
        refund = api.post(
            f"/api/v1/payments/{payment.pk}/refund/", {"amount_cents": 500}, content_type="application/json"
        )
    assert refund.status_code == 201, refund.content
    assert refund.json()["amount_cents"] == 500
    with schema_context(business.schema):
        assert Payment.objects.get(pk=payment.pk).refunds.get().status == "succeeded"
    too_much = api.post(
        f"/api/v1/payments/{payment.pk}/refund/", {"amount_cents": 5000}, content_type="application/json"
    )
    assert too_much.status_code == 400 and "detail" in too_much.json()
    no_card = api.post(f"/api/v1/payments/{payment.pk}/charge-fee/")
    assert no_card.status_code == 400
    assert api.get(f"/api/v1/payments/{payment.pk}/").json()["refunded_cents"] == 500
    with schema_context(business.schema):
        staff = make_user(business, "staff")
        staff_token = api_token_create(user=staff, name="t").key
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {staff_token}"
    assert api.get("/api/v1/payments/").status_code == 403
