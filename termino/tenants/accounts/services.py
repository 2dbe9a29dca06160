"""Writes of the team and of the owner's account, inside the business's own schema.

Rules that keep a business in working order live here, not only in the forms:
- there is exactly one owner: signup makes it, nothing here grants, removes or deactivates the role;
- only the owner appoints or changes managers; managers look after staff members (and themselves);
- nobody changes their own role or deactivates themselves;
- people are deactivated, never deleted (appointments and notes keep their author), and a deactivated
  person's sessions and API tokens end at once.
"""

import logging
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from termino.platform.billing import selectors as billing
from termino.platform.tenancy.profile import tenant_registration_update
from termino.platform.tenancy.routing import primary_url
from termino.shared import timeutils
from termino.shared.errors import InvalidRequest
from termino.tenants.scheduling.models import Resource, ResourceKind

from .models import ApiToken, Invitation, Role, User

logger = logging.getLogger(__name__)

MANAGERS = (Role.OWNER, Role.MANAGER)


class InvalidField(InvalidRequest):
    """Bad input that belongs to one field of the form that sent it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class InvitationNotFound(Exception):
    """No invitation has this token (mistyped, revoked, or of another business)."""


class InvitationGone(Exception):
    """The invitation was used already or has expired."""


# --- Helpers -----------------------------------------------------------------------------------------


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _split_name(name: str) -> tuple[str, str]:
    first_name, _sep, last_name = " ".join(name.split()).partition(" ")
    return first_name, last_name


def _email_in_use(email: str, *, exclude: User | None = None) -> bool:
    users = User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.exists()


def _check_may_grant(acting_user: User, role: str) -> None:
    """Managers may be appointed by the owner only; nobody becomes owner through the team pages."""
    if acting_user.role not in MANAGERS:
        raise PermissionDenied
    if role == Role.OWNER:
        raise InvalidField("role", _("A business has exactly one owner; this role cannot be given."))
    if role == Role.MANAGER and acting_user.role != Role.OWNER:
        raise PermissionDenied


def _check_may_manage(acting_user: User, member: User) -> None:
    """The owner manages everyone; managers manage staff members and themselves."""
    if acting_user.role not in MANAGERS:
        raise PermissionDenied
    if acting_user.pk == member.pk or acting_user.role == Role.OWNER:
        return
    if member.role != Role.STAFF:
        raise PermissionDenied


def _column_lock(resource_id: int) -> Resource | None:
    return Resource.objects.select_for_update().filter(pk=resource_id, kind=ResourceKind.STAFF).first()


def _sessions_end(user: User) -> int:
    """Delete the user's sessions in this schema. Session data is encoded, so each one is read."""
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


# --- Invitations -------------------------------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, Invitation.hash_token(token)


def invitation_accept_url(*, tenant, token: str) -> str:
    """The absolute link, built from the business's primary domain (never from a request's Host)."""
    return primary_url(tenant, reverse("team:accept", kwargs={"token": token}))


def _invitation_mail_send(*, tenant, invitation: Invitation, token: str) -> None:
    """Sent inside the caller's transaction: if the mail cannot go out, nothing is stored."""
    inviter = invitation.invited_by
    with translation.override(tenant.language or settings.LANGUAGE_CODE):
        context = {
            "name": invitation.name,
            "business": tenant.name,
            "inviter": (inviter.get_full_name() or inviter.email) if inviter else tenant.name,
            "role": Role(invitation.role).label,
            "url": invitation_accept_url(tenant=tenant, token=token),
            "expires_at": timezone.localtime(invitation.expires_at, ZoneInfo(tenant.time_zone)),
        }
        subject = " ".join(render_to_string("accounts/email/invitation_subject.txt", context).split())
        body = render_to_string("accounts/email/invitation_body.txt", context)
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[invitation.email],
        reply_to=[tenant.email] if tenant.email else None,
    )
    try:
        message.send()
    except Exception as exc:  # SMTP and network errors alike: the person must learn it did not go out
        logger.warning("invitation mail to %s failed", invitation.email, exc_info=True)
        raise InvalidRequest(
            _("The invitation e-mail could not be sent. Please try again in a few minutes.")
        ) from exc


@transaction.atomic
def user_invite(
    *,
    tenant,
    invited_by: User,
    email: str,
    name: str,
    role: str,
    resource: Resource | None = None,
    new_resource_name: str = "",
) -> Invitation:
    """Invite a manager or staff member by e-mail. The returned invitation carries `.token` (not stored).

    A staff member works in a calendar column: an existing one without a person, or a new one made
    when they accept (named `new_resource_name`, or after them).
    """
    _check_may_grant(invited_by, role)
    email = _normalise_email(email)
    name = " ".join(name.split())
    new_resource_name = " ".join(new_resource_name.split())
    if _email_in_use(email):
        raise InvalidField("email", _("A member of your team already uses this e-mail address."))
    if billing.staff_seats_left(tenant) <= 0:
        raise InvalidField(
            "email",
            _(
                "Your plan includes %(max)d team members with a login. Choose a bigger plan on the billing "
                "page to invite more."
            )
            % {"max": billing.limits(tenant).max_staff},
        )
    # An expired invitation no longer holds its e-mail address or column: a new one replaces it.
    holds = Q(email=email) | Q(resource=resource) if resource is not None else Q(email=email)
    Invitation.objects.filter(holds, accepted_at__isnull=True, expires_at__lte=timezone.now()).delete()
    if Invitation.objects.filter(email=email, accepted_at__isnull=True).exists():
        raise InvalidField(
            "email",
            _("This person has been invited already. You can send the invitation again from the team list."),
        )
    if resource is not None:
        resource = _column_lock(resource.pk)
        if resource is None or resource.user_id is not None or not resource.active:
            raise InvalidField("column", _("This calendar column already belongs to someone else."))
        if Invitation.objects.filter(resource=resource, accepted_at__isnull=True).exists():
            raise InvalidField("column", _("Someone else has been invited to this calendar column."))
        new_resource_name = ""
    elif role == Role.STAFF and not new_resource_name:
        new_resource_name = name

    token, token_hash = _new_token()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                email=email,
                name=name,
                role=role,
                resource=resource,
                new_resource_name=new_resource_name,
                token_hash=token_hash,
                invited_by=invited_by,
                expires_at=timezone.now() + Invitation.VALID_FOR,
            )
    except IntegrityError as exc:  # a concurrent invitation of the same person or column
        raise InvalidField("email", _("This person has been invited already.")) from exc
    _invitation_mail_send(tenant=tenant, invitation=invitation, token=token)
    invitation.token = token
    return invitation


@transaction.atomic
def invitation_resend(*, tenant, invitation: Invitation, acting_user: User) -> Invitation:
    """A new link (the old one stops working) valid for another seven days, sent again."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_may_grant(acting_user, invitation.role)
    if invitation.is_accepted:
        raise InvalidRequest(_("This invitation has been accepted already."))
    if _email_in_use(invitation.email):
        raise InvalidRequest(_("A member of your team already uses this e-mail address."))
    token, invitation.token_hash = _new_token()
    invitation.expires_at = timezone.now() + Invitation.VALID_FOR
    invitation.save(update_fields=["token_hash", "expires_at"])
    _invitation_mail_send(tenant=tenant, invitation=invitation, token=token)
    invitation.token = token
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, acting_user: User) -> None:
    """Withdraw an invitation that has not been accepted; its link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_may_grant(acting_user, invitation.role)
    if invitation.is_accepted:
        raise InvalidRequest(_("This invitation has been accepted already."))
    invitation.delete()


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link stands for; raises InvitationNotFound or InvitationGone."""
    if not token or len(token) > 100:
        raise InvitationNotFound
    invitation = Invitation.objects.filter(token_hash=Invitation.hash_token(token)).first()
    if invitation is None:
        raise InvitationNotFound
    if not invitation.is_open:
        raise InvitationGone
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, name: str, password: str, language: str = "") -> User:
    """The invitee's login, made with the invited role; links or creates their calendar column.

    `password` has been checked against the password validators by the caller's form.
    """
    invitation = invitation_for_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:  # accepted in another tab a moment ago
        raise InvitationGone
    if _email_in_use(invitation.email):
        raise InvalidRequest(_("An account with this e-mail address exists already. Please log in."))
    first_name, last_name = _split_name(name or invitation.name)
    user = User(
        username=invitation.email,
        email=invitation.email,
        first_name=first_name,
        last_name=last_name,
        role=invitation.role,
        language=language[:8],
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise InvalidRequest(_("An account with this e-mail address exists already. Please log in.")) from exc

    linked = False
    if invitation.resource_id is not None:
        resource = _column_lock(invitation.resource_id)
        if resource is not None and resource.user_id is None:
            resource.user, linked = user, True
            resource.save(update_fields=["user"])
    # A new column as asked; also when the chosen one went to someone else (or was deleted) meanwhile.
    if not linked and (
        invitation.new_resource_name or invitation.resource_id or invitation.role == Role.STAFF
    ):
        column_name = invitation.new_resource_name or user.get_full_name() or invitation.email
        Resource.objects.create(kind=ResourceKind.STAFF, name=column_name, user=user)

    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return user


# --- Team members ------------------------------------------------------------------------------------


def _column_set(*, member: User, resource: Resource | None, new_resource_name: str) -> None:
    current = Resource.objects.select_for_update().filter(user=member).first()
    if new_resource_name:
        if current is not None:
            current.user = None
            current.save(update_fields=["user"])
        Resource.objects.create(kind=ResourceKind.STAFF, name=new_resource_name, user=member)
        return
    if (current.pk if current else None) == (resource.pk if resource else None):
        return
    if resource is not None:
        resource = _column_lock(resource.pk)
        if resource is None or resource.user_id is not None:
            raise InvalidField("column", _("This calendar column already belongs to someone else."))
    if current is not None:
        current.user = None
        current.save(update_fields=["user"])
    if resource is not None:
        resource.user = member
        resource.save(update_fields=["user"])


@transaction.atomic
def user_update(
    *,
    member: User,
    acting_user: User,
    name: str,
    role: str,
    is_active: bool,
    resource: Resource | None = None,
    new_resource_name: str = "",
) -> User:
    """Name, role, calendar column and whether the person may log in."""
    member = User.objects.select_for_update().get(pk=member.pk)
    _check_may_manage(acting_user, member)
    if role != member.role or not is_active:
        if member.role == Role.OWNER:
            raise InvalidField("role", _("The owner stays the owner and cannot be deactivated."))
        if member.pk == acting_user.pk:
            raise InvalidField("role", _("You cannot change your own role or deactivate yourself."))
    if role != member.role:
        _check_may_grant(acting_user, role)
    new_resource_name = " ".join(new_resource_name.split())
    if role == Role.STAFF and resource is None and not new_resource_name:
        raise InvalidField("column", _("A staff member needs a calendar column."))

    _column_set(member=member, resource=resource, new_resource_name=new_resource_name)
    member.first_name, member.last_name = _split_name(name)
    member.role = role
    member.save(update_fields=["first_name", "last_name", "role"])
    if is_active and not member.is_active:
        member.is_active = True
        member.save(update_fields=["is_active"])
    elif not is_active and member.is_active:
        member = user_deactivate(member=member, acting_user=acting_user)
    return member


@transaction.atomic
def user_deactivate(*, member: User, acting_user: User) -> User:
    """The person can no longer log in; their open sessions and API tokens end now."""
    member = User.objects.select_for_update().get(pk=member.pk)
    _check_may_manage(acting_user, member)
    if member.role == Role.OWNER:
        raise InvalidRequest(_("The owner stays the owner and cannot be deactivated."))
    if member.pk == acting_user.pk:
        raise InvalidRequest(_("You cannot change your own role or deactivate yourself."))
    member.is_active = False
    member.save(update_fields=["is_active"])  # User.save ends the API tokens too
    _sessions_end(member)
    api_tokens_revoke_all(user=member)
    return member


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """A new password (checked by the caller's form); the caller keeps the current session alive.

    Every API token of the person ends: whoever held one with the old password holds nothing now.
    """
    user.set_password(password)
    user.save(update_fields=["password"])  # User.save ends the API tokens too
    api_tokens_revoke_all(user=user)
    return user


def user_agenda_email_set(*, user: User, enabled: bool) -> User:
    """Turn the person's daily agenda e-mail on or off. It needs an e-mail address and a calendar column
    of their own (the agenda lists that column's appointments)."""
    if enabled and not user.email:
        raise InvalidRequest(_("Your login has no e-mail address to send the agenda to."))
    if enabled and not Resource.objects.filter(user=user, active=True).exists():
        raise InvalidRequest(_("You have no calendar column of your own, so there is no agenda to send."))
    user.agenda_email = enabled
    user.save(update_fields=["agenda_email"])
    return user


# --- People: a login, a calendar column, or both -------------------------------------------------------
# The People page shows logins and staff columns as one list. A column is linked to at most one login
# (Resource.user is one-to-one in the database); "appears in the calendar" is the column being active.


def _column_services_set(column: Resource, services) -> None:
    if services is not None:
        column.services.set(list(services))


@transaction.atomic
def person_add(
    *, tenant, acting_user: User, name: str, email: str, role: str, in_calendar: bool, services=()
) -> tuple[Resource | None, Invitation | None]:
    """Someone new: a calendar column (bookable at once) and/or an invitation to log in, in one go.

    With both, the invitation names the new column, so the person works in it once they accept. Nothing
    is stored when the invitation cannot be made or sent.
    """
    if acting_user.role not in MANAGERS:
        raise PermissionDenied
    name = " ".join(name.split())
    if not email and not in_calendar:
        raise InvalidField(
            "in_calendar",
            _("Give an e-mail address for a login, or let the person appear in the calendar (or both)."),
        )
    if email and role == Role.STAFF and not in_calendar:
        raise InvalidField("in_calendar", _("A staff member works in their own calendar column."))
    column = None
    if in_calendar:
        column = Resource.objects.create(kind=ResourceKind.STAFF, name=name)
        _column_services_set(column, services)
    invitation = None
    if email:
        invitation = user_invite(
            tenant=tenant, invited_by=acting_user, email=email, name=name, role=role, resource=column
        )
    return column, invitation


@transaction.atomic
def user_column_ensure(*, member: User, acting_user: User, services=None) -> Resource:
    """The person appears in the calendar: their column (made and linked now if they have none) is
    active; `services` are added to what it offers. "I work here myself" on the start page is this."""
    member = User.objects.select_for_update().get(pk=member.pk)  # one column per person, also in a race
    _check_may_manage(acting_user, member)
    column = Resource.objects.filter(user=member).first()
    if column is None:
        name = member.get_full_name() or member.get_username()
        column = Resource.objects.create(kind=ResourceKind.STAFF, name=name, user=member)
    elif not column.active:
        column.active = True
        column.save(update_fields=["active"])
    if services is not None:
        column.services.add(*services)
    return column


@transaction.atomic
def person_update(
    *, member: User, acting_user: User, name: str, role: str, is_active: bool, in_calendar: bool, services
) -> User:
    """A person with a login, as on the People page: name, role, access, calendar column and services.

    Leaving the calendar deactivates the column (its appointments stay), it is never unlinked.
    """
    if role == Role.STAFF and not in_calendar:
        raise InvalidField("in_calendar", _("A staff member works in their own calendar column."))
    column = Resource.objects.filter(user=member).first()
    member = user_update(
        member=member,
        acting_user=acting_user,
        name=name,
        role=role,
        is_active=is_active,
        resource=column,
        new_resource_name=" ".join(name.split()) if in_calendar and column is None else "",
    )
    column = Resource.objects.select_for_update().filter(user=member).first()
    if column is not None:
        column.active = in_calendar
        column.save(update_fields=["active"])
        _column_services_set(column, services)
    return member


@transaction.atomic
def column_update(
    *,
    tenant,
    column: Resource,
    acting_user: User,
    name: str,
    in_calendar: bool,
    services,
    invite_email: str = "",
    role: str = Role.STAFF,
) -> Resource:
    """A calendar column without a login: its name, whether it appears in the calendar, its services;
    with `invite_email`, the person is invited to log in and work in it (all or nothing)."""
    if acting_user.role not in MANAGERS:
        raise PermissionDenied
    column = Resource.objects.select_for_update().get(pk=column.pk, kind=ResourceKind.STAFF)
    column.name = " ".join(name.split())
    column.active = in_calendar
    column.save(update_fields=["name", "active"])
    _column_services_set(column, services)
    if invite_email:
        user_invite(
            tenant=tenant,
            invited_by=acting_user,
            email=invite_email,
            name=column.name,
            role=role,
            resource=column,
        )
    return column


@transaction.atomic
def person_deactivate(*, acting_user: User, member: User | None = None, column: Resource | None = None):
    """No more login (sessions and tokens end) and no more calendar column; appointments and notes stay."""
    if member is not None:
        member = user_deactivate(member=member, acting_user=acting_user)
        column = Resource.objects.filter(user=member).first()
    elif acting_user.role not in MANAGERS:
        raise PermissionDenied
    if column is not None:
        Resource.objects.filter(pk=column.pk).update(active=False)


# --- API tokens --------------------------------------------------------------------------------------


def api_token_default_name(user_agent: str = "") -> str:
    """What a token is called when its maker gives no name: their client's User-Agent, or "API token"."""
    name = " ".join((user_agent or "").split())[: ApiToken.NAME_LENGTH]
    return name or _("API token")


def api_token_valid_for() -> timedelta:
    return timedelta(days=settings.API_TOKEN_DAYS)


@transaction.atomic
def api_token_create(*, user: User, name: str = "", user_agent: str = "") -> ApiToken:
    """A new API token of `user`. The returned token carries `.key`, which is stored nowhere: it is shown
    to its maker once. Raises InvalidRequest when the person has API_TOKENS_PER_USER unexpired tokens."""
    user = User.objects.select_for_update().get(pk=user.pk)  # one creation per person at a time
    if not user.is_active:
        raise InvalidRequest(_("This login is deactivated."))
    now = timeutils.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()  # expired ones are of no use
    if ApiToken.objects.filter(user=user).count() >= settings.API_TOKENS_PER_USER:
        raise InvalidField(
            "name",
            _(
                "You have %(count)d API tokens already, as many as a person may have. Revoke the ones you "
                "no longer use on your account page (API tokens), then try again."
            )
            % {"count": settings.API_TOKENS_PER_USER},
        )
    name = " ".join((name or "").split())[: ApiToken.NAME_LENGTH] or api_token_default_name(user_agent)
    key = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=ApiToken.hash_key(key),
        created_at=now,
        expires_at=timeutils.shift(now, api_token_valid_for()),
    )
    token.key = key
    return token


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of the person's own tokens; another person's token (or none) is not found: False."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def api_tokens_revoke_all(*, user: User) -> int:
    """End every API token of `user`. User.save calls this whenever the password hash changes or the
    login is deactivated, so a password reset or change needs no call of its own."""
    deleted, _rows = ApiToken.objects.filter(user_id=user.pk).delete()
    return deleted


# --- The owner's account -----------------------------------------------------------------------------


@transaction.atomic
def owner_registration_update(
    *,
    tenant,
    owner: User,
    owner_name: str,
    company_name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    phone: str,
    email: str,
) -> None:
    """The business's registration data (public schema); the owner's login follows their e-mail.

    When the owner logs in with the registered e-mail address (as after signup), a new address becomes
    their login name too; their name follows the owner's name the same way.
    """
    owner = User.objects.select_for_update().get(pk=owner.pk)
    if owner.role != Role.OWNER:
        raise PermissionDenied
    email = _normalise_email(email)
    old_email = (tenant.email or "").lower()
    login_follows = email != old_email and owner.username.lower() == old_email
    if login_follows:
        if _email_in_use(email, exclude=owner):
            raise InvalidField("email", _("A member of your team already uses this e-mail address."))
        if Invitation.objects.filter(
            email=email, accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).exists():
            raise InvalidField("email", _("An invitation to this e-mail address is still open."))
    name_follows = owner.get_full_name() == " ".join(tenant.owner_name.split())

    tenant_registration_update(
        tenant=tenant,
        owner_name=owner_name,
        name=company_name,
        street=street,
        postcode=postcode,
        city=city,
        country=country,
        phone=phone,
        email=email,
    )
    fields = []
    if login_follows:
        owner.username = owner.email = email
        fields += ["username", "email"]
    if name_follows:
        owner.first_name, owner.last_name = _split_name(owner_name)
        fields += ["first_name", "last_name"]
    if fields:
        try:
            with transaction.atomic():
                owner.save(update_fields=fields)
        except IntegrityError as exc:
            raise InvalidField("email", _("A member of your team already uses this e-mail address.")) from exc


# --- Login audit ---------------------------------------------------------------------------------------


@transaction.atomic
def login_ips_truncate(*, older_than, dry_run: bool = False) -> int:
    """Cut the IP address of login events before `older_than` to its network (/24 IPv4, /48 IPv6), in
    the current schema. Idempotent: truncated events are marked and left alone. Returns how many (with
    `dry_run`, how many it would cut, changing nothing)."""
    from django.db.models.expressions import RawSQL

    from .models import LoginEvent

    due = LoginEvent.objects.filter(created_at__lt=older_than, ip_truncated=False, ip_address__isnull=False)
    if dry_run:
        return due.count()
    return due.update(
        # The network address of the /24 (IPv4) or /48 (IPv6) the address belongs to, as a plain address.
        ip_address=RawSQL(
            "host(network(set_masklen(ip_address,"
            " CASE WHEN family(ip_address) = 4 THEN 24 ELSE 48 END)))::inet",
            (),
        ),
        ip_truncated=True,
    )
