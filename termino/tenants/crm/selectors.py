"""Reads of customers: search, the list's extra columns, the detail page, merge candidates, likely
duplicates."""

import re

import phonenumbers
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from termino.shared import phones

from .models import Consent, ConsentKind, Customer, DuplicateReason, DuplicateSuspicion
from .services import tag_normalize

# A query of only digits and phone punctuation is a phone number (or part of one).
PHONE_QUERY = re.compile(r"^[\d\s+()/.\-]+$")
MIN_PHONE_DIGITS = 3
# German spellings without umlauts ("Mueller") find the umlaut ("Müller") and the other way round.
FOLDS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
UNFOLDS = {v: k for k, v in FOLDS.items()}
REGEX_SPECIAL = set(r".^$*+?()[]{}|\-")


def _letter_pattern(char: str) -> str:
    if char.lower() != char.upper():
        return f"[{char.lower()}{char.upper()}]"
    return "\\" + char if char in REGEX_SPECIAL else char


def name_pattern(term: str) -> str:
    """A PostgreSQL regex matching `term` case-insensitively, umlauts and their spellings alike.

    Built here rather than with ILIKE/lower(): the database may run with the C locale, where lower() and
    ILIKE fold only ASCII letters, so "MÜLLER" would not be found by "mül".
    """
    term = term.lower()
    out, i = [], 0
    while i < len(term):
        pair = term[i : i + 2]
        if pair in UNFOLDS:
            umlaut = UNFOLDS[pair]
            out.append(f"({_letter_pattern(umlaut)}|{_letter_pattern(pair[0])}{_letter_pattern(pair[1])})")
            i += 2
            continue
        char = term[i]
        if char in FOLDS:
            spelled = "".join(_letter_pattern(c) for c in FOLDS[char])
            out.append(f"({_letter_pattern(char)}|{spelled})")
        else:
            out.append(_letter_pattern(char))
        i += 1
    return "".join(out)


def _phone_condition(query: str, region: str) -> Q | None:
    """Phone numbers (stored E.164) matching typed digits: "0171 23" is national, so it means +49171 23…"""
    digits = re.sub(r"\D", "", query)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    stripped = query.strip()
    if stripped.startswith("+"):
        return Q(phone__startswith=f"+{digits}")
    if digits.startswith("00"):
        return Q(phone__startswith=f"+{digits[2:]}")
    if digits.startswith("0"):
        code = phonenumbers.country_code_for_region((region or "DE").upper()) or 49
        return Q(phone__startswith=f"+{code}{digits[1:]}")
    return Q(phone__contains=digits)


def customer_search(
    *,
    query: str,
    limit: int | None = 20,
    tag: str = "",
    region: str = "DE",
    include_restricted: bool = False,
) -> QuerySet:
    """Customers whose name, e-mail or phone contain what was typed; best matches first, then A–Z.

    Every word must match somewhere ("anna mül" finds Anna Müller). `limit=None` leaves the queryset
    unsliced for pagination. Without a query all customers (of the tag) are listed by name.
    Customers whose processing is restricted (Art. 18 GDPR) are left out unless `include_restricted`
    (the owner's view).
    """
    customers = Customer.objects.all()
    if not include_restricted:
        customers = customers.filter(processing_restricted=False)
    tag = tag_normalize(tag)
    if tag:
        customers = customers.filter(tags__contains=[tag])
    query = " ".join((query or "").split())[:100]
    ordering = ["last_name", "first_name", "id"]
    if query:
        phone = _phone_condition(query, region) if PHONE_QUERY.match(query) else None
        if phone is not None:
            customers = customers.filter(phone | Q(email__contains=query.replace(" ", "").lower()))
        else:
            for word in query.split(" "):
                pattern = name_pattern(word)
                condition = Q(first_name__regex=pattern) | Q(last_name__regex=pattern)
                condition |= Q(email__contains=word.lower())
                digits = re.sub(r"\D", "", word)
                if len(digits) >= MIN_PHONE_DIGITS:
                    condition |= Q(phone__contains=digits)
                customers = customers.filter(condition)
            first = name_pattern(query.split(" ")[0])
            customers = customers.annotate(
                rank=Case(
                    When(last_name__regex=f"^{first}", then=Value(0)),
                    When(first_name__regex=f"^{first}", then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            ordering = ["rank", *ordering]
    customers = customers.order_by(*ordering)
    return customers if limit is None else customers[:limit]


def tags_in_use(*, include_restricted: bool = False) -> list[str]:
    """Every tag some (listed) customer has, A–Z (for the list's filter)."""
    where = "" if include_restricted else " WHERE NOT processing_restricted"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT unnest(tags) AS tag FROM {Customer._meta.db_table}{where} ORDER BY tag"
        )
        return [row[0] for row in cursor.fetchall()]


def phone_display(phone: str, region: str = "DE") -> str:
    """E.164 as people write it: national format for the business's own country, else international."""
    return phones.display(phone, region)


def customer_consents(*, customer: Customer) -> tuple[list[dict], list[Consent]]:
    """The current state of each kind of consent, and the whole history (newest first)."""
    history = list(Consent.objects.filter(customer=customer).order_by("-recorded_at", "-id"))
    current = []
    for kind, label in ConsentKind.choices:
        latest = next((c for c in history if c.kind == kind), None)
        current.append({"kind": kind, "label": label, "latest": latest})
    return current, history


def merge_candidates(
    *, customer: Customer, limit: int = 10, include_restricted: bool = False
) -> list[Customer]:
    """Likely duplicates of `customer`: same e-mail, same phone, or same name (Müller = Mueller)."""
    condition = Q(last_name__regex=f"^{name_pattern(customer.last_name)}$")
    if customer.first_name:
        condition &= Q(first_name__regex=f"^{name_pattern(customer.first_name)}$")
    if customer.email:
        condition |= Q(email=customer.email)
    if customer.phone:
        condition |= Q(phone=customer.phone)
    found = Customer.objects.filter(condition).exclude(pk=customer.pk)
    if not include_restricted:
        found = found.filter(processing_restricted=False)
    return list(found.order_by("id")[:limit])


# --- Likely duplicates ---------------------------------------------------------------------------------

SUSPECTS_LIMIT = 5  # entries one new customer may be paired with (a family's shared landline, say)


def same_contact_or_name(
    *, email: str, phone: str, first_name: str, last_name: str, exclude_id: int, limit: int = SUSPECTS_LIMIT
) -> list[tuple[Customer, str]]:
    """Other entries that may be the same person, with the reason: the same e-mail or phone, or, sharing
    neither, the same first and last name (Müller = Mueller). Oldest first."""
    condition = Q(pk__in=[])
    if email:
        condition |= Q(email=email)
    if phone:
        condition |= Q(phone=phone)
    found = list(Customer.objects.filter(condition).exclude(pk=exclude_id).order_by("id")[:limit])
    if found:
        return [
            (c, DuplicateReason.EMAIL if email and c.email == email else DuplicateReason.PHONE) for c in found
        ]
    if not (first_name and last_name):
        return []
    same_name = Customer.objects.filter(
        first_name__regex=f"^{name_pattern(first_name)}$", last_name__regex=f"^{name_pattern(last_name)}$"
    )
    return [(c, DuplicateReason.NAME) for c in same_name.exclude(pk=exclude_id).order_by("id")[:limit]]


def _suspicions(include_restricted: bool) -> QuerySet:
    suspicions = DuplicateSuspicion.objects.filter(dismissed_at__isnull=True)
    if not include_restricted:
        # A pair with a restricted customer would show them: for the owner only, as everywhere.
        suspicions = suspicions.filter(
            customer_a__processing_restricted=False, customer_b__processing_restricted=False
        )
    return suspicions.select_related("customer_a", "customer_b")


def duplicate_suspicions(*, include_restricted: bool = False) -> QuerySet:
    """Pairs of customers waiting for the team's decision, newest first."""
    return _suspicions(include_restricted).order_by("-created_at", "-id")


def duplicate_suspicions_of(
    *, customer: Customer, include_restricted: bool = False
) -> list[DuplicateSuspicion]:
    """The customer's pending pairs, each with `other` set to the other customer."""
    pairs = list(
        _suspicions(include_restricted)
        .filter(Q(customer_a=customer) | Q(customer_b=customer))
        .order_by("-created_at", "-id")
    )
    for pair in pairs:
        pair.other = pair.customer_b if pair.customer_a_id == customer.pk else pair.customer_a
    return pairs


# What a message channel needs from the customer: e-mail the privacy notice accepted, SMS the SMS consent.
CHANNEL_CONSENT = {"email": ConsentKind.PRIVACY, "sms": ConsentKind.SMS_REMINDERS}


def consents_latest(customer_ids) -> dict[int, dict[str, bool]]:
    """The latest decision per consent kind of each customer, in one query for a whole batch."""
    latest: dict[int, dict[str, bool]] = {}
    rows = (
        Consent.objects.filter(customer_id__in=set(customer_ids))
        .order_by("recorded_at", "pk")
        .values_list("customer_id", "kind", "granted")
    )
    for customer_id, kind, granted in rows:
        latest.setdefault(customer_id, {})[kind] = granted
    return latest


def consent_allows(consents: dict[str, bool], channel: str) -> bool:
    """Does the customer's latest decision allow messages on `channel` ("email" or "sms")?"""
    return bool(consents.get(CHANNEL_CONSENT[channel]))
