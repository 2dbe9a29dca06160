"""Writes of the legal app: publishing versions, the operator's entries, sub-processor changes and their
announcement, a business accepting the data-processing agreement.

A document is built from the operator's entries and the code each time it is needed; when the result
differs from the last published version it becomes the next version, with the time it was first
published. So the platform never shows a text that is not kept, and no one has to remember to publish:
a deploy that adds a cookie, a changed setting or an operator's edit each give a new version on first use.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from termino.shared import documents, timeutils
from termino.shared.db.locks import advisory_xact_locks
from termino.shared.errors import InvalidRequest

from . import content
from .models import (
    ChangeKind,
    DocumentKind,
    DocumentVersion,
    DpaAcceptance,
    Operator,
    SubProcessor,
    SubProcessorChange,
)

LANGUAGES = ("de", "en")
BUILDERS = {DocumentKind.PRIVACY: content.privacy_notice, DocumentKind.DPA: content.dpa}
# One publisher at a time per kind (transaction-scoped, so it works behind PgBouncer's transaction mode).
_LOCK_KEYS = {DocumentKind.PRIVACY: 7_318_001, DocumentKind.DPA: 7_318_002}

OPERATOR_FIELDS = (
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "representative",
    "email",
    "phone",
    "dpo_status",
    "dpo_name",
    "dpo_contact",
    "authority_name",
    "authority_address",
    "authority_url",
    "extra_domains",
    "hosting_location",
    "backups",
    "notice_days",
)


def legal_today() -> date:
    """The platform's calendar day (settings.TIME_ZONE): sub-processor changes take effect on such days."""
    return timeutils.today(ZoneInfo(settings.TIME_ZONE))


def build(kind: str, *, today: date | None = None) -> dict[str, documents.Document]:
    builder = BUILDERS[kind]
    return {language: builder(language, today=today or legal_today()) for language in LANGUAGES}


def document_current(kind: str) -> DocumentVersion:
    """The version of `kind` that says what the platform does now, published first if it is new."""
    built = build(kind)
    digest = documents.digest(*built.values())
    latest = DocumentVersion.objects.filter(kind=kind).order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    with transaction.atomic():
        advisory_xact_locks([_LOCK_KEYS[kind]])
        latest = DocumentVersion.objects.filter(kind=kind).order_by("-number").first()
        if latest is not None and latest.digest == digest:
            return latest  # another request published it while we waited
        return DocumentVersion.objects.create(
            kind=kind,
            number=(latest.number + 1) if latest else 1,
            digest=digest,
            content={language: doc.to_json() for language, doc in built.items()},
            published_at=timezone.now(),
        )


# --- The operator's entries (staff admin) ----------------------------------------------------------------


def _staff_action(*, staff, action: str, reason: str = "", details: dict, ip: str | None):
    from termino.platform.staffadmin.services import staff_action_record

    return staff_action_record(staff=staff, action=action, reason=reason, details=details, ip=ip)


@transaction.atomic
def operator_update(*, staff, data: dict, ip: str | None = None) -> Operator:
    from termino.platform.staffadmin.models import ActionKind

    operator = Operator.objects.select_for_update().get(pk=Operator.current().pk)
    changed = [name for name in OPERATOR_FIELDS if name in data and getattr(operator, name) != data[name]]
    for name in changed:
        setattr(operator, name, data[name])
    operator.updated_at = timezone.now()
    operator.updated_by = staff.get_username()
    operator.save()
    _staff_action(staff=staff, action=ActionKind.LEGAL_OPERATOR, details={"changed": changed}, ip=ip)
    for kind in DocumentKind.values:
        document_current(kind)
    return operator


@dataclass(frozen=True)
class NewSubProcessor:
    name: str
    address: str
    category: str
    purpose: str
    location: str
    safeguards: str
    customer_data: bool


def _check_effective(effective_on: date) -> None:
    if effective_on < legal_today():
        raise InvalidRequest(
            _("A change cannot take effect in the past. Please choose today or a later day.")
        )


def _announce(change: SubProcessorChange, *, notify: bool) -> None:
    if notify:
        from .tasks import subprocessor_change_fan_out

        transaction.on_commit(lambda: subprocessor_change_fan_out.delay(change_id=change.pk))


@transaction.atomic
def subprocessor_add(
    *, staff, new: NewSubProcessor, effective_on: date, reason: str = "", notify: bool = True, ip=None
) -> SubProcessorChange:
    """A provider the platform starts to use on `effective_on`; every business owner is told by e-mail."""
    from termino.platform.staffadmin.models import ActionKind

    _check_effective(effective_on)
    provider = SubProcessor.objects.create(
        name=new.name.strip(),
        address=new.address.strip(),
        category=new.category,
        purpose=new.purpose.strip(),
        location=new.location.strip(),
        safeguards=new.safeguards.strip(),
        customer_data=new.customer_data,
        active_from=effective_on,
    )
    change = SubProcessorChange.objects.create(
        kind=ChangeKind.ADDED,
        subprocessor=provider,
        effective_on=effective_on,
        reason=reason,
        staff_username=staff.get_username(),
    )
    _staff_action(
        staff=staff,
        action=ActionKind.SUBPROCESSOR_ADD,
        reason=reason,
        details={"subprocessor": provider.name, "effective_on": effective_on.isoformat(), "notify": notify},
        ip=ip,
    )
    _announce(change, notify=notify)
    return change


@transaction.atomic
def subprocessor_end(
    *, staff, subprocessor_id: int, effective_on: date, reason: str = "", notify: bool = True, ip=None
) -> SubProcessorChange:
    """The platform stops using a provider from `effective_on` on; every business owner is told."""
    from termino.platform.staffadmin.models import ActionKind

    _check_effective(effective_on)
    provider = SubProcessor.objects.select_for_update().filter(pk=subprocessor_id).first()
    if provider is None:
        raise InvalidRequest(_("This sub-processor does not exist."))
    if provider.active_until is not None and provider.active_until <= effective_on:
        raise InvalidRequest(
            _("This sub-processor ends already on %(date)s.")
            % {"date": formats.date_format(provider.active_until, "DATE_FORMAT")}
        )
    if effective_on <= provider.active_from:
        raise InvalidRequest(_("The end must be after the day the sub-processor starts."))
    provider.active_until = effective_on
    provider.save(update_fields=["active_until"])
    change = SubProcessorChange.objects.create(
        kind=ChangeKind.ENDED,
        subprocessor=provider,
        effective_on=effective_on,
        reason=reason,
        staff_username=staff.get_username(),
    )
    _staff_action(
        staff=staff,
        action=ActionKind.SUBPROCESSOR_END,
        reason=reason,
        details={"subprocessor": provider.name, "effective_on": effective_on.isoformat(), "notify": notify},
        ip=ip,
    )
    _announce(change, notify=notify)
    return change


def default_effective_on() -> date:
    return legal_today() + timedelta(days=Operator.current().notice_days)


# --- A business accepts the AV contract ------------------------------------------------------------------


class StaleVersion(InvalidRequest):
    pass


def dpa_accept(*, tenant, user, version_number: int) -> DpaAcceptance:
    """The owner accepts the version they read. A newer version published meanwhile is refused (the page
    shows it), so an acceptance always names a text the owner saw."""
    current = document_current(DocumentKind.DPA)
    if version_number != current.number:
        raise StaleVersion(
            _(
                "A newer version (%(number)d) of the agreement was published while you were reading. Please "
                "read it and accept that one."
            )
            % {"number": current.number}
        )
    try:
        with transaction.atomic():
            return DpaAcceptance.objects.create(
                tenant_id=tenant.pk,
                version=current,
                accepted_at=timezone.now(),
                user_id=user.pk,
                username=user.get_username(),
                user_name=user.get_full_name(),
            )
    except IntegrityError:  # accepted already (a double click): the first acceptance stands
        return DpaAcceptance.objects.get(tenant_id=tenant.pk, version=current)
