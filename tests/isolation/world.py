"""The two businesses the isolation suite plays against each other, each with one object of every kind.

Every text a business holds carries its own random marker (`Isolationstest-A-<hex>`), so a response can be
searched for the other business's data. Built once for the package inside a transaction that is rolled
back at the end: A and B are left exactly as they were (sequences aside, as after any rolled-back test).
"""

import hashlib
import json
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.backups import crypto
from termino.platform.backups.models import BusinessExport, ExportKind
from termino.platform.staffadmin.models import ImpersonationGrant
from termino.platform.staffadmin.services import impersonation_grant_create
from termino.platform.tenancy.confirmation import confirmation_token
from termino.tenants.accounts import password_reset
from termino.tenants.accounts.handover import handover_issue
from termino.tenants.accounts.models import Invitation, SignInHandover
from termino.tenants.accounts.services import api_token_create
from termino.tenants.booking import services as booking_services
from termino.tenants.business.models import BusinessSettings
from termino.tenants.calendars import crypto as calendar_crypto
from termino.tenants.calendars.models import CalDavConnection
from termino.tenants.calendars.services import feed_token_issue
from termino.tenants.crm.models import Customer, CustomerNote, DuplicateSuspicion
from termino.tenants.notifications.models import OutboxMessage
from termino.tenants.payments.models import Payment
from termino.tenants.privacy.models import PrivacyRequest, RequestKind, RequestStatus
from termino.tenants.scheduling import services as scheduling_services
from termino.tenants.scheduling.models import Appointment, Closure, Series, WeeklyHours
from termino.tenants.waitlist import services as waitlist_services
from termino.tenants.waitlist import tokens as waitlist_tokens
from termino.tenants.waitlist.models import Offer
from termino.tenants.webhooks.models import Delivery, Endpoint
from tests.conftest import PASSWORD, Business, client_for, password_hash
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import next_monday, salon

MEDIA_PATH = "isolation/logo.txt"  # the same name in both businesses: only the schema tells them apart


@dataclass
class Side:
    """One business and its objects, as seen from outside: ids, tokens and the texts that identify it."""

    business: Business
    label: str
    hex: str
    owner: object = None
    staff_user: object = None
    resource: object = None
    service: object = None
    hours: object = None
    closure: object = None
    block: object = None  # time one staff member blocked in the calendar
    customer: object = None
    note: object = None
    appointment: object = None
    series: object = None
    visit: object = None  # several services booked back to back (scheduling.Visit)
    manage_token: str = ""
    hold_token: str = ""
    invitation: object = None
    invitation_token: str = ""
    outbox: object = None
    other_customer: object = None
    suspicion: object = None
    waitlist_entry: object = None
    waitlist_token: str = ""
    offer: object = None
    offer_token: str = ""
    privacy_request: object = None
    privacy_token: str = ""
    staff_login_token: str = ""
    reset_uid: str = ""
    reset_token: str = ""
    confirm_token: str = ""
    welcome_token: str = ""
    import_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    api_token: str = ""
    api_token_obj: object = None
    feed_token: str = ""
    nightly_export: object = None
    payment: object = None  # a deposit paid for the appointment (tenants/payments)
    session_cookie: str = ""
    webhook: object = None  # an outgoing webhook endpoint
    webhook_delivery: object = None

    @property
    def host(self) -> str:
        return self.business.host

    @property
    def schema(self) -> str:
        return self.business.schema

    @property
    def media_path(self) -> str:
        return MEDIA_PATH

    def mark(self, what: str) -> str:
        return f"{what}-{self.label}-{self.hex}"

    @property
    def holder_data(self) -> list[str]:
        """What the customer's own links (a confirmed privacy request) may show to whoever holds them."""
        customer, note = self.customer, self.note
        return [customer.last_name, customer.email, note.text, self.appointment.notes, self.outbox.text]

    @property
    def confidential(self) -> list[str]:
        """Texts no one without a login of this business may ever see, whatever link they hold."""
        return [
            *self.holder_data,
            self.other_customer.last_name,
            self.closure.reason,
            self.block.reason,
            self.staff_user.email,
            self.mark("Importzeile"),
            self.mark("Schluessel"),  # the name of the owner's API token
            self.mark("Webhook"),  # an endpoint's description
            self.webhook.secret,
            self.mark("caldav-user"),  # the staff member's CalDAV login (and its address below)
            self.mark("caldav-host"),
        ]

    @property
    def anything(self) -> list[str]:
        """Everything that identifies this business: not one of these may show at the other's host."""
        return [self.hex, self.business.tenant.name]

    def client(self, *, session: bool = False, token: bool = False, host: str | None = None) -> Client:
        headers = {"HTTP_AUTHORIZATION": f"Token {self.api_token}"} if token else {}
        client = client_for(host or self.host, "en")
        client.defaults.update(headers)
        if session:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.session_cookie
        return client


@dataclass
class World:
    a: Side
    b: Side


def build_side(business: Business, label: str) -> Side:
    side = Side(business=business, label=label, hex=secrets.token_hex(4))
    user_model = get_user_model()
    with schema_context(business.schema):
        side.owner = user_model.objects.get(role="owner")
        BusinessSettings.current()  # made on first use: not by an attack's request
        side.staff_user = user_model.objects.create(
            username=f"staff-{side.hex}@{business.tenant.slug}.example",
            email=f"staff-{side.hex}@{business.tenant.slug}.example",
            first_name=side.mark("Mitarbeiterin"),
            role="staff",
            password=password_hash(),
        )
        side.service, (side.resource,), _room = salon(staff_count=1, name=side.mark("Dienst"))
        side.resource.name, side.resource.user = side.mark("Spalte"), side.staff_user
        side.resource.save(update_fields=["name", "user"])
        side.hours = WeeklyHours.objects.filter(resource__isnull=True).first()
        side.closure = Closure.objects.create(
            start=timezone.now() + timedelta(days=60),
            end=timezone.now() + timedelta(days=61),
            reason=side.mark("Schliessung"),
        )
        side.block = Closure.objects.create(
            resource=side.resource,
            start=timezone.now() + timedelta(days=62),
            end=timezone.now() + timedelta(days=62, hours=1),
            reason=side.mark("Abwesenheit"),
        )
        side.customer = Customer.objects.create(
            first_name="Kim",
            last_name=side.mark("Isolationstest"),
            email=f"kunde-{side.hex}@isolation-{label.lower()}.example",
            phone="+4930" + str(secrets.randbelow(10**7)).zfill(7),
        )
        side.note = CustomerNote.objects.create(customer=side.customer, text=side.mark("Notiz"))
        side.appointment = scheduling_services.appointment_create(
            booking=scheduling_services.Booking(
                service=side.service, start=next_monday(time(10)), staff=side.resource
            ),
            customer=side.customer,
            notes=side.mark("Termin"),
        )
        side.series = Series.objects.create(
            service=side.service, customer=side.customer, frequency="weekly", first_date=date(2027, 1, 4),
            time=time(10), count=1,
        )  # fmt: skip
        Appointment.objects.filter(pk=side.appointment.pk).update(series=side.series)
        side.manage_token = secrets.token_urlsafe(24)
        Appointment.objects.filter(pk=side.appointment.pk).update(manage_token=side.manage_token)
        side.payment = Payment.objects.create(
            appointment=side.appointment,
            customer=side.customer,
            kind="deposit",
            status="succeeded",
            paid_at=timezone.now(),
            description=side.mark("Anzahlung"),
            amount_cents=2000,
            token=secrets.token_urlsafe(24),
            payment_intent_id=f"pi_isolation_{side.hex}",
        )
        visit_start = next_monday(time(11))
        side.visit = scheduling_services.visit_create(
            bookings=[
                scheduling_services.Booking(service=side.service, start=start, staff=side.resource)
                for start in scheduling_services.visit_starts([side.service, side.service], visit_start)
            ],
            customer=side.customer,
        )[0].visit
        hold = booking_services.hold_create(
            service_id=side.service.pk,
            start=next_monday(time(14)),
            resource_id=side.resource.pk,
            time_zone=business.tenant.time_zone,
            ip_key="isolation",
            form_key=f"isolation-{side.hex}",
        )
        Appointment.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() + timedelta(hours=2))
        side.hold_token = hold.manage_token
        side.invitation_token = secrets.token_urlsafe(32)
        side.invitation = Invitation.objects.create(
            email=f"eingeladen-{side.hex}@isolation-{label.lower()}.example",
            name=side.mark("Eingeladen"),
            role="staff",
            new_resource_name=side.mark("Neue Spalte"),
            token_hash=Invitation.hash_token(side.invitation_token),
            expires_at=timezone.now() + Invitation.VALID_FOR,
            invited_by=side.owner,
        )
        # Signup's one-time pass into the backoffice; valid for a minute only, the suite takes longer.
        side.welcome_token = handover_issue(user=side.owner)
        SignInHandover.objects.update(expires_at=timezone.now() + timedelta(hours=2))
        side.outbox = OutboxMessage.objects.create(
            channel="sms",
            kind="reminder",
            recipient=side.customer.phone,
            text=side.mark("Nachricht"),
            appointment=side.appointment,
            customer=side.customer,
            due_at=timezone.now() - timedelta(hours=1),
            status="failed",
            reason="isolation test",
            idempotency_key=f"isolation:{side.hex}",
        )
        side.other_customer = Customer.objects.create(
            last_name=side.mark("Andere"), email=f"andere-{side.hex}@isolation-{label.lower()}.example"
        )
        side.suspicion = DuplicateSuspicion.objects.create(
            customer_a=side.customer, customer_b=side.other_customer, reason="name"
        )
        side.waitlist_entry, side.waitlist_token = waitlist_services.entry_join(
            customer=side.customer, wish=waitlist_services.Wish(service_id=side.service.pk)
        )
        side.offer_token, offer_hash = waitlist_tokens.new_token()
        side.offer = Offer.objects.create(
            entry=side.waitlist_entry,
            start=next_monday(time(16)),
            end=next_monday(time(16, 30)),
            expires_at=timezone.now() + timedelta(hours=2),
            token_hash=offer_hash,
        )
        side.privacy_token = secrets.token_urlsafe(32)
        side.privacy_request = PrivacyRequest.objects.create(
            email=side.customer.email,
            kind=RequestKind.ACCESS,
            token_hash=PrivacyRequest.hash_token(side.privacy_token),
            status=RequestStatus.VERIFIED,
            verified_at=timezone.now(),
            expires_at=timezone.now() + PrivacyRequest.VALID_FOR,
        )
        side.webhook = Endpoint.objects.create(
            url=f"https://hooks-{side.hex}.example/{label.lower()}",
            description=side.mark("Webhook"),
            events=["appointment.created"],
            secret=f"whsec_{secrets.token_hex(16)}",
        )
        side.webhook_delivery = Delivery.objects.create(
            uid=uuid.uuid4(),
            endpoint=side.webhook,
            event="appointment.created",
            subject=f"appointment:{side.appointment.pk}",
            payload={"appointment": {"id": side.appointment.pk}},
            occurred_at=timezone.now(),
            status="failed",
            next_attempt_at=timezone.now(),
            give_up_at=timezone.now(),
        )
        side.api_token_obj = api_token_create(user=side.owner, name=side.mark("Schluessel"))
        # The staff member's calendar subscription and CalDAV calendar (stored as the settings page does,
        # without queueing its first sync: no server lives at that address).
        side.feed_token = feed_token_issue(resource=side.resource, user=side.owner)
        CalDavConnection.objects.create(
            resource=side.resource,
            url=f"https://{side.mark('caldav-host').lower()}.example/dav/",
            username=side.mark("caldav-user"),
            password_encrypted=calendar_crypto.encrypt(side.mark("caldav-password")),
            next_pull_at=timezone.now() + timedelta(days=365),
        )
        side.api_token = side.api_token_obj.key
        # A password-reset link of the staff member, as the e-mail carries it.
        reset_path = password_reset.reset_path(
            user=side.staff_user, url_name="accounts:password_reset_confirm"
        )
        side.reset_uid, side.reset_token = reset_path.rstrip("/").split("/")[-2:]
    with schema_context(settings.PUBLIC_SCHEMA_NAME):
        # A platform staff member's one-time link to sign in as the owner (lives in `public`).
        staff = user_model.objects.create(username=f"staff-{side.hex}@platform.example", is_staff=True)
        grant, side.staff_login_token = impersonation_grant_create(
            staff=staff, tenant=business.tenant, target_user_id=side.owner.pk, reason="isolation test"
        )
        # Valid for minutes only; the suite may take longer on a busy machine.
        ImpersonationGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(hours=2))
    # A nightly copy of the business (public schema, listed and downloaded at its own host only).
    side.nightly_export = _nightly_copy(side)
    media = Path(settings.MEDIA_ROOT) / business.schema / MEDIA_PATH
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_text(side.mark("Datei"))
    # The e-mail confirmation link (signed, names the business; A and B are confirmed already).
    side.confirm_token = confirmation_token(tenant=business.tenant)
    side.session_cookie = log_in_as(business, "owner").cookies[settings.SESSION_COOKIE_NAME].value
    return side


def _nightly_copy(side: Side) -> BusinessExport:
    """A stored nightly copy (a small encrypted ZIP) of the side's business, as the nightly task makes it."""
    directory = Path(settings.BUSINESS_EXPORTS_ROOT) / side.schema
    directory.mkdir(parents=True, exist_ok=True)
    plain = directory / f".isolation-{side.hex}.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr(
            "manifest.json", json.dumps({"source": {"schema": side.schema}, "mark": side.mark("Kopie")})
        )
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    name = f"isolation-{side.hex}.tex"
    key = crypto.encrypt_file(plain, directory / name)
    plain.unlink()
    now = timezone.now()
    return BusinessExport.objects.create(
        tenant=side.business.tenant,
        kind=ExportKind.NIGHTLY,
        file_name=f"{side.schema}/{name}",
        size_bytes=(directory / name).stat().st_size,
        sha256=digest,
        key_id=key,
        created_at=now,
        expires_at=now + timedelta(days=7),
    )


def seed_import(side: Side) -> None:
    """An uploaded customer list waiting for confirmation (lives in the cache, which each test empties)."""
    stored = {
        "rows": [{"row": 2, "last_name": side.mark("Importzeile"), "email": ""}],
        "columns": [("Nachname", "last_name")],
        "filename": "kunden.csv",
        "encoding": "utf-8",
        "delimiter": ";",
    }
    with schema_context(side.schema):
        cache.set(f"crm-import:{side.owner.pk}:{side.import_token}", stored, 600)


def ids_beyond(*, schema: str, other: str) -> None:
    """Move every id sequence of `schema` past `other`'s: no id of one business is one of the other's.

    Sequences are outside transactions anyway (a rolled-back insert uses up its id too), so this leaves
    nothing behind that ordinary tests do not.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.sequencename, s.last_value, o.last_value FROM pg_sequences s"
            " JOIN pg_sequences o ON o.sequencename = s.sequencename AND o.schemaname = %s"
            " WHERE s.schemaname = %s",
            [other, schema],
        )
        for name, mine, theirs in cursor.fetchall():
            if (theirs or 0) >= (mine or 0):
                cursor.execute("SELECT setval(%s, %s)", [f'"{schema}"."{name}"', (theirs or 0) + 1])


_tables: dict[str, list[str]] = {}


def snapshot(schema: str) -> dict[str, tuple[int, Decimal]]:
    """Row count and a digest of every row of every table of `schema`: any write shows.

    The digest is the sum of the rows' 64-bit hashes: independent of row order, so PostgreSQL neither
    sorts nor concatenates the rows (five times faster than an md5 of the sorted rows, and the isolation
    walk takes thousands of these).
    """
    if schema not in _tables:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                [schema],
            )
            _tables[schema] = [row[0] for row in cursor.fetchall()]
    parts = [
        f"SELECT '{table}', count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)"
        f' FROM "{schema}"."{table}" r'
        for table in _tables[schema]
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


__all__ = [
    "PASSWORD",
    "Side",
    "World",
    "build_side",
    "changed_tables",
    "ids_beyond",
    "seed_import",
    "snapshot",
]
