"""A business worth moving: data in every app, made through the project's services, committed.

Besides the tenant schema it has platform rows that belong to it (billing account with SMS credits, a
purchase, status changes, a Stripe event, an SMS lock, a custom domain) and a logo under MEDIA_ROOT.
"""

import secrets
from dataclasses import dataclass
from datetime import time, timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.billing.models import BillingAccount, ConnectAccount, SmsPackPurchase, StripeEvent
from termino.platform.billing.services import tenant_status_set
from termino.platform.staffadmin.models import SmsLock
from termino.platform.tenancy.models import Domain, TenantStatus
from termino.tenants.accounts.models import Invitation
from termino.tenants.accounts.services import api_token_create
from termino.tenants.business.models import BusinessSettings
from termino.tenants.crm import services as crm
from termino.tenants.crm.models import Customer
from termino.tenants.privacy.models import PrivacyRequest, RequestKind
from termino.tenants.privacy.services import event_record
from termino.tenants.scheduling import lifecycle
from termino.tenants.scheduling import services as scheduling
from termino.tenants.scheduling.availability import WeeklyInterval
from termino.tenants.scheduling.events import Actor
from termino.tenants.scheduling.models import AppointmentStatus
from tests.conftest import Business, password_hash
from tests.tenants.crm.factories import consent
from tests.tenants.scheduling.factories import next_monday

# A 1×1 PNG: the logo travels byte for byte.
LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


@dataclass
class Facts:
    """What the tests check after a move."""

    owner_username: str
    api_token: str
    logo_name: str
    custom_domain: str
    customers: int


def build(business: Business, *, customers: int = 24) -> Facts:
    tenant = business.tenant
    custom_domain = f"termine-{tenant.slug}.example"
    with transaction.atomic():
        with schema_context(business.schema):
            facts = _tenant_data(business, customers=customers)
        Domain.objects.create(domain=custom_domain, tenant=tenant, is_primary=False)
        tenant_status_set(tenant=tenant, status=TenantStatus.ACTIVE, reason="paid (move test)")
        account = BillingAccount.objects.get(tenant=tenant)
        account.extra_sms_credits = 37
        account.stripe_customer_id = f"cus_{secrets.token_hex(6)}"
        account.save()
        SmsPackPurchase.objects.create(
            account=account,
            checkout_session_id=f"cs_{secrets.token_hex(8)}",
            pack="s",
            sms=40,
            amount_cents=900,
        )
        StripeEvent.objects.create(
            event_id=f"evt_{secrets.token_hex(8)}",
            type="checkout.session.completed",
            created=timezone.now(),
            payload={"object": {"customer": account.stripe_customer_id}},
            tenant=tenant,
            processed_at=timezone.now(),
            result="sms pack credited",
        )
        SmsLock.objects.create(tenant=tenant, reason="too many SMS to unknown numbers (move test)")
        ConnectAccount.objects.create(
            tenant=tenant,
            stripe_account_id=f"acct_{secrets.token_hex(8)}",
            status="enabled",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            currently_due=["external_account"],
        )
    facts.custom_domain = custom_domain
    return facts


def _tenant_data(business: Business, *, customers: int) -> Facts:
    users = get_user_model()
    owner = users.objects.get(role="owner")
    staff_user = users.objects.create(
        username=f"jana@{business.tenant.slug}.example",
        email=f"jana@{business.tenant.slug}.example",
        first_name="Jana",
        role="staff",
        password=password_hash(),
    )
    haircut = scheduling.service_create(name="Haarschnitt", duration_minutes=30, price="42.00")
    yoga = scheduling.service_create(name="Yoga", duration_minutes=60, capacity=3)
    jana = scheduling.resource_create(kind="staff", name="Jana", services=[haircut, yoga])
    jana.user = staff_user
    jana.save(update_fields=["user"])
    tom = scheduling.resource_create(kind="staff", name="Tom", services=[haircut])
    scheduling.resource_create(kind="room", name="Raum 1")
    scheduling.weekly_hours_replace(
        resource=None,
        intervals=[WeeklyInterval(d, time(9), time(12)) for d in range(6)]
        + [WeeklyInterval(d, time(13), time(18)) for d in range(5)],
    )
    scheduling.weekly_hours_replace(resource=tom, intervals=[WeeklyInterval(1, time(10), time(16))])
    monday = next_monday(time(9))
    scheduling.closure_create(
        resource=None,
        start=monday + timedelta(days=21),
        end=monday + timedelta(days=22),
        reason="Betriebsferien",
    )

    people = []
    for n in range(customers):
        person = crm.customer_create(
            first_name=f"Kundin{n}",
            last_name=f"Müller-{n}",
            email=f"kundin{n}@example.com",
            phone=f"+4917100{n:05d}",
            notes="Allergisch gegen Ammoniak." if n % 5 == 0 else "",
            tags=["vip", "farbe"] if n % 3 == 0 else ["neu"],
            created_by=owner,
        )
        crm.customer_note_add(customer=person, author=owner, text=f"Notiz {n}: mag es kurz.")
        consent(person, "privacy", True)
        consent(person, "sms_reminders", n % 2 == 0)
        people.append(person)

    booked = []
    for n, person in enumerate(people):
        start = monday + timedelta(days=n % 5, hours=n % 7)
        appointment = lifecycle.appointment_book(
            actor=Actor(source="backoffice", user=owner),
            booking=scheduling.Booking(service=haircut, start=start, staff=jana if n % 2 else None),
            customer=person,
            notes=f"Termin {n}",
        )
        booked.append(appointment)
    # A group session: three participants' allocations overlap on purpose (same session).
    for person in people[:3]:
        scheduling.appointment_create(
            booking=scheduling.Booking(service=yoga, start=monday + timedelta(days=5, hours=1), staff=jana),
            customer=person,
        )
    # Cancelled, then the same time booked again: inactive and active allocations overlap.
    scheduling.appointment_set_status(
        appointment=booked[1], status=AppointmentStatus.CANCELLED, reason="krank"
    )
    scheduling.appointment_create(
        booking=scheduling.Booking(service=haircut, start=booked[1].start, staff=jana), customer=people[4]
    )
    with time_machine.travel(booked[2].end, tick=True):  # a no-show once its time has come
        scheduling.appointment_set_status(appointment=booked[2], status=AppointmentStatus.NO_SHOW)

    for person in people[:4]:
        event_record(action="view", actor=owner, customer=person, ip="192.0.2.10")
    event_record(action="export", actor=owner, customer=people[0], details={"format": "json"})
    PrivacyRequest.objects.create(
        email=people[0].email,
        kind=RequestKind.ACCESS,
        token_hash=PrivacyRequest.hash_token(secrets.token_urlsafe(32)),
        expires_at=timezone.now() + PrivacyRequest.VALID_FOR,
    )
    Invitation.objects.create(
        email=f"neu@{business.tenant.slug}.example",
        name="Neue Kollegin",
        role="staff",
        token_hash=Invitation.hash_token(secrets.token_urlsafe(32)),
        expires_at=timezone.now() + Invitation.VALID_FOR,
        invited_by=owner,
    )
    token = api_token_create(user=owner, name="Sync").key
    rules = BusinessSettings.current()
    rules.impressum = "Alpha GmbH, Hauptstraße 1, 10115 Berlin"
    rules.logo.save("logo.png", ContentFile(LOGO), save=True)
    # The newest customer is deleted again: its id must not be handed out twice after the move.
    crm.customer_create(first_name="Wird", last_name="Gelöscht").delete()
    return Facts(
        owner_username=owner.username,
        api_token=token,
        logo_name=rules.logo.name,
        custom_domain="",
        customers=Customer.objects.count(),
    )
