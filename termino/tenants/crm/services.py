"""Writes to customers: create, edit, tags, notes, merge, likely duplicates and CSV import.

One validation (`customer_clean`) serves the backoffice forms, the calendar's quick create, the online
booking and the CSV import, so a number or address accepted in one place is accepted, in the same form,
everywhere. `customer_create` is the one door through which new customers come in.
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from termino.shared import phones
from termino.shared.db.locks import advisory_xact_locks
from termino.shared.errors import InvalidRequest

from . import events
from .models import TAG_MAX_LENGTH, Customer, CustomerNote, DuplicateSuspicion

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
NOTES_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 5000
MAX_TAGS = 20
TAG_SEPARATORS = re.compile(r"[,;|\n]")
# Fields filled from a duplicate when the kept customer has them empty.
MERGE_FILL_FIELDS = ("first_name", "last_name", "email", "phone")


# --- Validation ----------------------------------------------------------------------------------------


def phone_normalize(raw: str, *, region: str = "DE") -> str:
    """`raw` in E.164 ("+4917123456789"), read as a national number of `region` unless it has a prefix.

    The one rule set of termino.shared.phones, as a form's ValidationError.
    """
    try:
        return phones.normalise(raw, region)
    except phones.PhoneError as exc:
        raise ValidationError(exc.message) from exc


def email_normalize(raw: str) -> str:
    email = (raw or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(_("Please enter a valid e-mail address.")) from exc
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(_("Please enter a valid e-mail address."))
    return email


def tag_normalize(raw: str) -> str:
    """One tag: trimmed, lower case, inner spaces collapsed, a leading # dropped."""
    return " ".join((raw or "").strip().lstrip("#").lower().split())


def tags_normalize(raw: str | Iterable[str]) -> list[str]:
    """Tags from "VIP, Farbe" or ["VIP", "farbe"]: normalised, without repeats, in the given order."""
    parts = TAG_SEPARATORS.split(raw) if isinstance(raw, str) else list(raw or ())
    tags: list[str] = []
    for part in parts:
        tag = tag_normalize(part)
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            raise ValidationError(
                _("A tag can have at most %(n)d characters: %(tag)s") % {"n": TAG_MAX_LENGTH, "tag": tag}
            )
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("A customer can have at most %(n)d tags.") % {"n": MAX_TAGS})
    return tags


def _too_long(n: int) -> str:
    return _("Please use at most %(n)d characters.") % {"n": n}


def customer_clean(
    *,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    notes: str = "",
    tags: str | Iterable[str] = (),
    region: str = "DE",
) -> dict:
    """The customer's fields as stored, or ValidationError({field: [message, ...]}) naming every problem."""
    errors: dict[str, list[str]] = {}
    data = {
        "first_name": " ".join((first_name or "").split()),
        "last_name": " ".join((last_name or "").split()),
        "notes": (notes or "").strip(),
    }
    if not data["last_name"]:
        errors["last_name"] = [_("Please enter the last name.")]
    for name in ("first_name", "last_name"):
        if len(data[name]) > NAME_MAX_LENGTH:
            errors[name] = [_too_long(NAME_MAX_LENGTH)]
    if len(data["notes"]) > NOTES_MAX_LENGTH:
        errors["notes"] = [_too_long(NOTES_MAX_LENGTH)]
    for name, normalize in (
        ("email", email_normalize),
        ("phone", lambda value: phone_normalize(value, region=region)),
        ("tags", tags_normalize),
    ):
        try:
            data[name] = normalize({"email": email, "phone": phone, "tags": tags}[name])
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return data


def _invalid_request(exc: ValidationError) -> InvalidRequest:
    return InvalidRequest(" ".join(exc.messages))


# --- Create and edit -----------------------------------------------------------------------------------


def customer_duplicates(*, email: str, phone: str, exclude_id: int | None = None) -> list[Customer]:
    """Customers with this (normalised) e-mail or phone: likely the same person."""
    condition = Q(pk__in=[])
    if email:
        condition |= Q(email=email)
    if phone:
        condition |= Q(phone=phone)
    found = Customer.objects.filter(condition)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return list(found.order_by("id")[:10])


def _cleaned(**fields) -> dict:
    """customer_clean, with its ValidationError turned into the InvalidRequest callers show as a 400."""
    try:
        return customer_clean(**fields)
    except ValidationError as exc:
        raise _invalid_request(exc) from exc


@transaction.atomic
def customer_create(
    *,
    first_name: str,
    last_name: str,
    email: str = "",
    phone: str = "",
    notes: str = "",
    region: str = "DE",
    created_by=None,
    tags: str | Iterable[str] = (),
) -> Customer:
    """A new customer; InvalidRequest with a message a person understands if the input is not usable."""
    data = _cleaned(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        notes=notes,
        tags=tags,
        region=region,
    )
    customer = Customer.objects.create(**data, created_by=created_by)
    events.publish(events.CustomerEvent(kind=events.CREATED, customer_id=customer.pk, customer=customer))
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    first_name: str,
    last_name: str,
    email: str = "",
    phone: str = "",
    notes: str = "",
    tags: str | Iterable[str] = (),
    region: str = "DE",
) -> Customer:
    data = _cleaned(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        notes=notes,
        tags=tags,
        region=region,
    )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for name, value in data.items():
        setattr(customer, name, value)
    customer.save()
    events.publish(events.CustomerEvent(kind=events.UPDATED, customer_id=customer.pk, customer=customer))
    return customer


@transaction.atomic
def customer_tags_add(*, customer: Customer, tags: str | Iterable[str]) -> Customer:
    """Adds tags; the row is locked so two people tagging at once both keep their tags."""
    try:
        new = tags_normalize(tags)
    except ValidationError as exc:
        raise _invalid_request(exc) from exc
    if not new:
        raise InvalidRequest(_("Please enter a tag."))
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    try:
        customer.tags = tags_normalize([*customer.tags, *new])
    except ValidationError as exc:
        raise _invalid_request(exc) from exc
    customer.save(update_fields=["tags", "updated_at"])
    return customer


@transaction.atomic
def customer_tag_remove(*, customer: Customer, tag: str) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    tag = tag_normalize(tag)
    if tag in customer.tags:
        customer.tags = [t for t in customer.tags if t != tag]
        customer.save(update_fields=["tags", "updated_at"])
    return customer


# --- Notes ---------------------------------------------------------------------------------------------


def customer_note_add(*, customer: Customer, author, text: str) -> CustomerNote:
    text = (text or "").strip()
    if not text:
        raise InvalidRequest(_("Please write a note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidRequest(_too_long(NOTE_MAX_LENGTH))
    return CustomerNote.objects.create(customer=customer, author=author, text=text)


def customer_note_delete(*, note: CustomerNote) -> None:
    note.delete()


# --- Merge ---------------------------------------------------------------------------------------------


def _merged_fields(keep: Customer, duplicate: Customer) -> dict:
    """What the kept customer looks like after the merge: empty fields filled, tags and notes joined."""
    fields = {name: getattr(duplicate, name) for name in MERGE_FILL_FIELDS if not getattr(keep, name)}
    fields = {name: value for name, value in fields.items() if value}
    tags = list(dict.fromkeys([*keep.tags, *duplicate.tags]))
    if tags != keep.tags:
        fields["tags"] = tags
    # Free-text notes are joined rather than dropped: nothing anyone wrote is lost.
    if duplicate.notes and duplicate.notes not in keep.notes:
        fields["notes"] = f"{keep.notes}\n\n{duplicate.notes}".strip()
    return fields


@dataclass
class MergePlan:
    keep: Customer
    duplicate: Customer
    fields: dict  # field name → new value on the kept customer
    # What moves over: {"relation": accessor on Customer, "label": its name, "count": how many}.
    moves: list[dict] = field(default_factory=list)


def _customer_relations():
    """Every foreign key pointing at Customer, so records added by any app move along in a merge.

    Suspicions of duplicates do not move: the pair merged is resolved, and the duplicate's other pairs go
    with it (CASCADE) rather than becoming claims about the kept customer nobody made.
    """
    return [
        rel
        for rel in Customer._meta.related_objects
        if (rel.one_to_many or rel.one_to_one)
        and rel.field.model is not Customer
        and rel.related_model is not DuplicateSuspicion
    ]


def customer_merge_fields(*, keep: Customer, duplicate: Customer) -> dict:
    """The fields of `keep` a merge would fill in or join (no queries: for lists of pairs)."""
    return _merged_fields(keep, duplicate)


def customer_merge_plan(*, keep: Customer, duplicate: Customer) -> MergePlan:
    moves = []
    for rel in _customer_relations():
        count = rel.related_model._base_manager.filter(**{rel.field.name: duplicate}).count()
        if count:
            label = str(rel.related_model._meta.verbose_name_plural)
            moves.append({"relation": rel.get_accessor_name(), "label": label, "count": count})
    return MergePlan(keep=keep, duplicate=duplicate, fields=_merged_fields(keep, duplicate), moves=moves)


@transaction.atomic
def customer_merge(*, keep_id: int, duplicate_id: int, merged_by=None) -> Customer:
    """Moves everything of the duplicate to the kept customer and deletes the duplicate, all or nothing."""
    if keep_id == duplicate_id:
        raise InvalidRequest(_("Please choose two different customers."))
    # Both rows locked in id order: two merges of the same pair cannot interleave or deadlock.
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[keep_id, duplicate_id])}
    if len(locked) != 2:
        raise InvalidRequest(_("One of the two customers no longer exists."))
    keep, duplicate = locked[keep_id], locked[duplicate_id]
    fields = _merged_fields(keep, duplicate)
    for rel in _customer_relations():
        related = rel.related_model._base_manager
        if rel.one_to_one and related.filter(**{rel.field.name: keep}).exists():
            continue  # the kept customer has its own; the duplicate's goes with it
        related.filter(**{rel.field.name: duplicate}).update(**{rel.field.name: keep})
    summary = ", ".join(v for v in (str(duplicate), duplicate.email, duplicate.phone) if v)
    duplicate.delete()
    for name, value in fields.items():
        setattr(keep, name, value)
    keep.save()
    CustomerNote.objects.create(
        customer=keep,
        author=merged_by,
        text=_("Merged with the duplicate entry %(customer)s.") % {"customer": summary},
    )
    events.publish(events.CustomerEvent(kind=events.UPDATED, customer_id=keep.pk, customer=keep))
    return keep


# --- Likely duplicates ---------------------------------------------------------------------------------


def _lock_key(text: str) -> int:
    """A signed 64-bit advisory-lock key for `text` in the current business's schema."""
    digest = hashlib.blake2b(f"{connection.schema_name}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def customer_contact_lock(*, email: str, phone: str) -> None:
    """Waits until no other transaction of this business works on a customer with this e-mail or phone.

    Transaction-scoped advisory locks (released at commit or rollback), one per contact datum, taken in
    key order so two callers never wait on each other crosswise. Two online bookings with the same new
    address thus run one after the other: the second finds the customer the first created. Must be
    called inside a transaction (outside one the lock would end with the statement).
    """
    keys = sorted(
        {
            _lock_key(f"customer-contact:{kind}:{value}")
            for kind, value in (("e", email), ("p", phone))
            if value
        }
    )
    advisory_xact_locks(keys)


def duplicate_suspicions_record(*, customer: Customer, others: Iterable[tuple[Customer, str]]) -> None:
    """Marks `customer` and each of `others` (with the reason) as likely the same person.

    A pair is stored once, whichever order it comes in (ON CONFLICT DO NOTHING on the pair's unique
    constraint); a pair the team dismissed before stays dismissed.
    """
    rows = []
    for other, reason in others:
        if other.pk == customer.pk:
            continue
        low, high = sorted((customer.pk, other.pk))
        rows.append(DuplicateSuspicion(customer_a_id=low, customer_b_id=high, reason=reason))
    DuplicateSuspicion.objects.bulk_create(rows, ignore_conflicts=True)


def _pending_suspicion(suspicion_id: int) -> DuplicateSuspicion:
    suspicion = (
        DuplicateSuspicion.objects.select_for_update()
        .filter(pk=suspicion_id, dismissed_at__isnull=True)
        .first()
    )
    if suspicion is None:
        raise InvalidRequest(_("This pair has already been merged or dismissed."))
    return suspicion


@transaction.atomic
def duplicate_suspicion_dismiss(*, suspicion_id: int, dismissed_by=None) -> DuplicateSuspicion:
    """ "Not the same person": the pair stays stored, so it is not suggested again."""
    suspicion = _pending_suspicion(suspicion_id)
    suspicion.dismissed_at = timezone.now()
    suspicion.dismissed_by = dismissed_by if getattr(dismissed_by, "is_authenticated", False) else None
    suspicion.save(update_fields=["dismissed_at", "dismissed_by"])
    return suspicion


@transaction.atomic
def duplicate_suspicion_merge(*, suspicion_id: int, keep_id: int, merged_by=None) -> Customer:
    """Merges the pair, keeping `keep_id` (one of the two); the suspicion goes with the duplicate."""
    suspicion = _pending_suspicion(suspicion_id)
    pair = {suspicion.customer_a_id, suspicion.customer_b_id}
    if keep_id not in pair:
        raise InvalidRequest(_("Please choose one of the two customers to keep."))
    (duplicate_id,) = pair - {keep_id}
    return customer_merge(keep_id=keep_id, duplicate_id=duplicate_id, merged_by=merged_by)


# --- CSV import ----------------------------------------------------------------------------------------

IMPORT_FIELDS = ("first_name", "last_name", "email", "phone", "notes", "tags")


@dataclass
class ImportRow:
    number: int  # the row as a spreadsheet shows it (the header is row 1)
    values: dict  # as read from the file
    errors: dict = field(default_factory=dict)  # field → [messages]
    cleaned: dict | None = None
    existing_id: int | None = None  # a customer with this e-mail or phone exists already
    same_as_row: int | None = None  # an earlier row of the file has this e-mail or phone

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        if self.existing_id is not None:
            return "exists"
        if self.same_as_row is not None:
            return "repeated"
        return "new"


def customer_import_check(*, rows: list[dict], region: str = "DE") -> list[ImportRow]:
    """Each row validated as a new customer would be, and matched against customers and earlier rows."""
    checked = []
    for raw in rows:
        row = ImportRow(number=raw["row"], values={k: raw.get(k, "") for k in IMPORT_FIELDS})
        try:
            row.cleaned = customer_clean(**row.values, region=region)
        except ValidationError as exc:
            row.errors = exc.message_dict
        checked.append(row)
    clean = [row for row in checked if row.cleaned]
    emails = {row.cleaned["email"] for row in clean if row.cleaned["email"]}
    phones = {row.cleaned["phone"] for row in clean if row.cleaned["phone"]}
    known: dict[str, int] = {}
    for pk, email, phone in (
        Customer.objects.filter(Q(email__in=emails) | Q(phone__in=phones))
        .order_by("-id")
        .values_list("id", "email", "phone")
    ):
        for key in (f"e:{email}", f"p:{phone}"):
            known[key] = pk
    seen: dict[str, int] = {}
    for row in clean:
        keys = [f"e:{row.cleaned['email']}"] * bool(row.cleaned["email"])
        keys += [f"p:{row.cleaned['phone']}"] * bool(row.cleaned["phone"])
        row.existing_id = next((known[k] for k in keys if k in known), None)
        row.same_as_row = next((seen[k] for k in keys if k in seen), None)
        for key in keys:
            seen.setdefault(key, row.number)
    return checked


@dataclass
class ImportResult:
    created: int
    skipped: int


@transaction.atomic
def customer_import(*, rows: list[dict], region: str = "DE", created_by=None) -> ImportResult:
    """Creates the valid new rows, checked again now: the list may have changed since the preview."""
    checked = customer_import_check(rows=rows, region=region)
    new = [Customer(**row.cleaned, created_by=created_by) for row in checked if row.status == "new"]
    Customer.objects.bulk_create(new, batch_size=500)
    for customer in new:
        events.publish(events.CustomerEvent(kind=events.CREATED, customer_id=customer.pk, customer=customer))
    return ImportResult(created=len(new), skipped=len(checked) - len(new))
