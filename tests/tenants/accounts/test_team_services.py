"""The team's services: invitations (hashed tokens, expiry, one open per person), acceptance, the rules
that keep exactly one owner, and deactivation that ends sessions."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.shared.errors import InvalidRequest
from termino.tenants.accounts import services
from termino.tenants.accounts.models import ApiToken, Invitation, Role, User
from termino.tenants.scheduling.models import Resource
from tests.tenants.backoffice.helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(business_a):
    # A fresh row: services update the tenant object they are given, the session's Business is shared.
    return Tenant.objects.get(pk=business_a.tenant.pk)


@pytest.fixture
def owner(business_a):
    with schema_context(business_a.schema):
        return User.objects.get(role=Role.OWNER)


@pytest.fixture
def in_a(business_a):
    # Messages are matched in English; the default language of the project is German.
    with schema_context(business_a.schema), translation.override("en"):
        yield


def expire(invitations=None):
    """As if the invitations had been made eight days ago."""
    past = timezone.now() - timedelta(days=8)
    (invitations or Invitation.objects.all()).update(created_at=past, expires_at=past + Invitation.VALID_FOR)


def invite(tenant, by, **kwargs):
    data = {"email": "Lena@Example.com", "name": "Lena  Fischer", "role": Role.STAFF} | kwargs
    return services.user_invite(tenant=tenant, invited_by=by, **data)


def test_invitation_stores_only_the_hash_of_its_token(in_a, tenant, owner, mailoutbox):
    invitation = invite(tenant, owner)
    stored = Invitation.objects.get()
    assert stored.email == "lena@example.com" and stored.name == "Lena Fischer"
    assert stored.token_hash == hashlib.sha256(invitation.token.encode()).hexdigest()
    assert invitation.token not in {str(v) for v in Invitation.objects.values().get().values()}
    assert stored.expires_at - stored.created_at == pytest.approx(timedelta(days=7), abs=timedelta(seconds=5))
    assert stored.new_resource_name == "Lena Fischer"  # a staff member gets a column named after them
    assert stored.invited_by == owner
    assert len(mailoutbox) == 1


def test_mail_is_in_the_business_language_with_a_link_to_its_primary_domain(
    in_a, tenant, owner, mailoutbox, business_a
):
    invitation = invite(tenant, owner)
    mail = mailoutbox[0]
    assert mail.to == ["lena@example.com"]
    assert tenant.name in mail.subject
    link = f"http://{business_a.host}:8000/team/accept/{invitation.token}/"
    assert link in mail.body
    assert "Lena Fischer" in mail.body and "Mitarbeiter" in mail.body  # German: the business's language
    assert mail.reply_to == [tenant.email]

    tenant.language = "en"
    invite(tenant, owner, email="max@example.com", name="Max")
    assert "has invited you" in mailoutbox[1].body


def test_existing_user_or_open_invitation_is_refused(in_a, tenant, owner, mailoutbox):
    with pytest.raises(services.InvalidField) as exc:
        invite(tenant, owner, email=owner.email.upper())
    assert exc.value.field == "email"
    invite(tenant, owner)
    with pytest.raises(services.InvalidField, match="invited already"):
        invite(tenant, owner, email="lena@example.com")
    assert Invitation.objects.count() == 1 and len(mailoutbox) == 1


def test_expired_invitation_is_replaced_by_a_new_one(in_a, tenant, owner):
    first = invite(tenant, owner)
    expire()
    second = invite(tenant, owner)
    assert list(Invitation.objects.values_list("pk", flat=True)) == [second.pk]
    assert first.pk != second.pk


def test_the_database_allows_one_open_invitation_per_email(in_a, owner):
    fields = {"name": "X", "role": Role.STAFF, "expires_at": timezone.now() + timedelta(days=1)}
    Invitation.objects.create(email="a@example.com", token_hash="a" * 64, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(email="a@example.com", token_hash="b" * 64, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(email="b@example.com", token_hash="not-a-hash", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(email="c@example.com", token_hash="c" * 64, **{**fields, "role": "owner"})


def test_only_the_owner_invites_managers(in_a, tenant, business_a):
    manager = make_user(business_a, Role.MANAGER)
    staff = make_user(business_a, Role.STAFF)
    with pytest.raises(PermissionDenied):
        invite(tenant, manager, role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        invite(tenant, staff)
    with pytest.raises(services.InvalidField):
        invite(tenant, manager, role=Role.OWNER)
    assert invite(tenant, manager).role == Role.STAFF
    assert not Invitation.objects.filter(role=Role.MANAGER).exists()


def test_a_column_with_a_person_cannot_be_offered(in_a, tenant, owner, business_a):
    taken = Resource.objects.create(kind="staff", name="Anna", user=make_user(business_a, Role.STAFF))
    with pytest.raises(services.InvalidField) as exc:
        invite(tenant, owner, resource=taken)
    assert exc.value.field == "column"
    free = Resource.objects.create(kind="staff", name="Chair 2")
    invite(tenant, owner, resource=free)
    with pytest.raises(services.InvalidField, match="invited to this"):
        invite(tenant, owner, email="other@example.com", resource=free)


def test_accepting_makes_the_login_links_the_column_and_works_once(in_a, tenant, owner):
    column = Resource.objects.create(kind="staff", name="Chair 2")
    invitation = invite(tenant, owner, resource=column)
    user = services.invitation_accept(token=invitation.token, name="Lena Fischer", password="x-Secret-2026")
    assert (user.username, user.email, user.role) == ("lena@example.com", "lena@example.com", Role.STAFF)
    assert (user.first_name, user.last_name) == ("Lena", "Fischer")
    assert user.check_password("x-Secret-2026")
    column.refresh_from_db()
    assert column.user == user
    assert Invitation.objects.get().accepted_at is not None
    with pytest.raises(services.InvitationGone):
        services.invitation_accept(token=invitation.token, name="Again", password="x-Secret-2026")
    # The accepted invitation no longer holds the address: a later (refused) invite says why.
    with pytest.raises(services.InvalidField, match="already uses"):
        invite(tenant, owner)


def test_accepting_creates_the_new_column(in_a, tenant, owner):
    invitation = invite(tenant, owner, new_resource_name="Lena (Kosmetik)")
    user = services.invitation_accept(token=invitation.token, name="Lena", password="x-Secret-2026")
    assert Resource.objects.get(user=user).name == "Lena (Kosmetik)"
    assert Resource.objects.get(user=user).kind == "staff"


def test_a_manager_without_column_gets_none(in_a, tenant, owner):
    invitation = invite(tenant, owner, role=Role.MANAGER)
    user = services.invitation_accept(token=invitation.token, name="Mia", password="x-Secret-2026")
    assert user.role == Role.MANAGER and not Resource.objects.filter(user=user).exists()


def test_expired_and_unknown_tokens_are_refused(in_a, tenant, owner):
    invitation = invite(tenant, owner)
    with pytest.raises(services.InvitationNotFound):
        services.invitation_for_token("nonsense")
    with pytest.raises(services.InvitationNotFound):
        services.invitation_for_token(invitation.token_hash)  # the stored hash is no key
    expire()
    with pytest.raises(services.InvitationGone):
        services.invitation_accept(token=invitation.token, name="Lena", password="x-Secret-2026")
    assert not User.objects.filter(username="lena@example.com").exists()


def test_resend_makes_a_new_link_and_revoke_removes_it(in_a, tenant, owner, mailoutbox):
    first = invite(tenant, owner)
    expire()
    again = services.invitation_resend(tenant=tenant, invitation=first, acting_user=owner)
    assert again.token != first.token and again.is_open
    assert again.token in mailoutbox[1].body
    with pytest.raises(services.InvitationNotFound):
        services.invitation_for_token(first.token)
    services.invitation_revoke(invitation=again, acting_user=owner)
    assert not Invitation.objects.exists()
    with pytest.raises(services.InvitationNotFound):
        services.invitation_for_token(again.token)


def test_managers_cannot_withdraw_a_managers_invitation(in_a, tenant, owner, business_a):
    invitation = invite(tenant, owner, role=Role.MANAGER)
    manager = make_user(business_a, Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.invitation_revoke(invitation=invitation, acting_user=manager)
    with pytest.raises(PermissionDenied):
        services.invitation_resend(tenant=tenant, invitation=invitation, acting_user=manager)
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_failed_mail_stores_nothing(in_a, tenant, owner, settings):
    settings.EMAIL_BACKEND = "tests.tenants.accounts.test_team_services.BrokenBackend"
    with pytest.raises(InvalidRequest, match="could not be sent"):
        invite(tenant, owner)
    assert not Invitation.objects.exists()


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")


# --- One owner, roles, deactivation ------------------------------------------------------------------


def update(member, by, **kwargs):
    data = {"name": member.get_full_name() or "Name", "role": member.role, "is_active": member.is_active}
    column = Resource.objects.filter(user=member).first()
    data["resource"] = column
    if member.role == Role.STAFF and column is None:
        data["new_resource_name"] = "Column"
    return services.user_update(member=member, acting_user=by, **(data | kwargs))


def test_the_database_keeps_a_single_owner(in_a, business_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(business_a, Role.OWNER)


def test_the_owner_is_never_demoted_or_deactivated(in_a, owner, business_a):
    with pytest.raises(services.InvalidField):
        update(owner, owner, role=Role.MANAGER)
    with pytest.raises(services.InvalidField):
        update(owner, owner, is_active=False)
    with pytest.raises(InvalidRequest):
        services.user_deactivate(member=owner, acting_user=owner)
    manager = make_user(business_a, Role.MANAGER)
    with pytest.raises(PermissionDenied):
        update(owner, manager, name="Changed")
    with pytest.raises(services.InvalidField):
        update(manager, owner, role=Role.OWNER)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active and owner.first_name == "Erika"
    # The owner may rename themselves and work in a column of their own.
    update(owner, owner, name="Erika M. Mustermann", new_resource_name="Erika")
    owner.refresh_from_db()
    assert (owner.first_name, owner.last_name) == ("Erika", "M. Mustermann")
    assert Resource.objects.get(user=owner).name == "Erika"


def test_nobody_changes_their_own_role(in_a, business_a):
    manager = make_user(business_a, Role.MANAGER)
    with pytest.raises(services.InvalidField):
        update(manager, manager, role=Role.STAFF)
    with pytest.raises(services.InvalidField):
        update(manager, manager, is_active=False)


def test_managers_look_after_staff_only(in_a, owner, business_a):
    manager = make_user(business_a, Role.MANAGER)
    other_manager = make_user(business_a, Role.MANAGER)
    staff = make_user(business_a, Role.STAFF, staff_name="Chair 1")
    with pytest.raises(PermissionDenied):
        update(other_manager, manager, name="Renamed")
    with pytest.raises(PermissionDenied):
        update(staff, manager, role=Role.MANAGER)
    update(staff, manager, name="Tom Tailor")
    staff.refresh_from_db()
    update(staff, owner, role=Role.MANAGER)
    staff.refresh_from_db()
    assert staff.role == Role.MANAGER and staff.get_full_name() == "Tom Tailor"


def test_staff_members_need_a_column_and_columns_move(in_a, owner, business_a):
    staff = make_user(business_a, Role.STAFF, staff_name="Chair 1")
    free = Resource.objects.create(kind="staff", name="Chair 2")
    with pytest.raises(services.InvalidField):
        update(staff, owner, resource=None)
    update(staff, owner, resource=free)
    assert Resource.objects.get(user=staff) == free
    assert Resource.objects.get(name="Chair 1").user is None
    taken = Resource.objects.create(kind="staff", name="Chair 3", user=make_user(business_a, Role.STAFF))
    with pytest.raises(services.InvalidField):
        update(staff, owner, resource=taken)


def test_deactivation_ends_sessions_and_tokens(in_a, owner, business_a):
    staff = make_user(business_a, Role.STAFF, staff_name="Chair 1")
    theirs, other = SessionStore(), SessionStore()
    theirs[SESSION_KEY] = str(staff.pk)
    theirs.create()
    other[SESSION_KEY] = str(owner.pk)
    other.create()
    services.api_token_create(user=staff, name="Sync")
    update(staff, owner, is_active=False)
    staff.refresh_from_db()
    assert not staff.is_active
    assert not Session.objects.filter(session_key=theirs.session_key).exists()
    assert Session.objects.filter(session_key=other.session_key).exists()
    assert not ApiToken.objects.filter(user=staff).exists()
    assert Resource.objects.get(user=staff).name == "Chair 1"  # the column and its history stay
    update(staff, owner, is_active=True)
    staff.refresh_from_db()
    assert staff.is_active


def test_invitations_stop_at_the_plans_team_size(in_a, tenant, owner, mailoutbox):
    from termino.platform.billing.models import BillingAccount, Plan

    plan = Plan.objects.create(
        code="duo", name="Duo", price_monthly_cents=100, price_yearly_cents=1000, max_staff=2, sms_per_month=0
    )
    BillingAccount.objects.filter(tenant_id=tenant.pk).update(plan=plan)
    invite(tenant, owner)  # the owner plus one open invitation fill the two seats
    with pytest.raises(services.InvalidField, match="includes 2 team members"):
        invite(tenant, owner, email="noch-jemand@example.com")
    assert Invitation.objects.count() == 1
