"""Reads of the legal app, for the platform's pages, the staff admin and the businesses' backoffice."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery

from termino.shared.documents import Document

from . import content, facts_memory
from .models import DocumentKind, DocumentVersion, DpaAcceptance, Operator, SubProcessor, SubProcessorChange


def version_document(version: DocumentVersion, language: str) -> Document:
    data = version.content.get(language) or version.content.get("de") or next(iter(version.content.values()))
    return Document.from_json(data)


def version_get(kind: str, number: int) -> DocumentVersion | None:
    return DocumentVersion.objects.filter(kind=kind, number=number).first()


def version_list(kind: str):
    return (
        DocumentVersion.objects.filter(kind=kind)
        .only("kind", "number", "published_at", "digest")
        .order_by("-number")
    )


def operator_get() -> Operator:
    return Operator.current()


def subprocessors_all():
    return SubProcessor.objects.order_by("active_until", "category", "name", "pk")


def subprocessors_in_effect(on, *, customer_data_only: bool = False) -> list[SubProcessor]:
    return content._in_effect(on, customer_data_only=customer_data_only)


def change_list(limit: int = 20):
    return SubProcessorChange.objects.select_related("subprocessor").annotate(sent=Count("notices"))[:limit]


def open_warnings(documents_built: dict) -> list[str]:
    """What the operator still has to enter, as the documents warn about it (each once)."""
    seen: list[str] = []
    for document in documents_built:
        for text in document.warnings:
            if text not in seen:
                seen.append(text)
    return seen


@dataclass(frozen=True)
class DpaState:
    current: DocumentVersion
    accepted: DpaAcceptance | None

    @property
    def up_to_date(self) -> bool:
        return self.accepted is not None and self.accepted.version_id == self.current.pk


def dpa_acceptance_latest(tenant) -> DpaAcceptance | None:
    return DpaAcceptance.objects.select_related("version").filter(tenant_id=tenant.pk).first()


def dpa_acceptances(tenant):
    return DpaAcceptance.objects.select_related("version").filter(tenant_id=tenant.pk)


def dpa_latest_numbers(tenant_ids) -> dict[int, int]:
    """tenant id → the version number of its latest acceptance (for the staff list, one query)."""
    latest = DpaAcceptance.objects.filter(tenant_id=OuterRef("tenant_id")).order_by("-accepted_at", "-id")
    rows = (
        DpaAcceptance.objects.filter(tenant_id__in=list(tenant_ids))
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .values_list("tenant_id", "version__number")
    )
    return dict(rows)


def dpa_current_number() -> int | None:
    return (
        DocumentVersion.objects.filter(kind=DocumentKind.DPA)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )


@dataclass(frozen=True)
class ProcessorFacts:
    """The operator and the sub-processors in effect on a day: what `processor_blocks` writes about."""

    operator: Operator
    providers: list[SubProcessor]


def processor_facts(today, *, customer_data_only: bool = True) -> ProcessorFacts:
    """Read once per change in each process, outside transactions (facts_memory.py)."""
    return facts_memory.remembered(
        (today, customer_data_only),
        lambda: ProcessorFacts(
            Operator.current(), content._in_effect(today, customer_data_only=customer_data_only)
        ),
    )


def processor_blocks(today, *, customer_data_only: bool = True, facts: ProcessorFacts | None = None) -> list:
    """The platform as a business's processor, with its sub-processors: for the documents a business
    publishes or keeps (its booking-page notice, its record of processing activities). `facts` read once
    serve a document built in several languages."""
    from django.utils.translation import gettext as _

    from termino.shared.documents import fields, para, warning

    facts = facts or processor_facts(today, customer_data_only=customer_data_only)
    operator = facts.operator
    blocks = []
    if operator.name:
        rows = [(_("Processor"), operator.name)]
        if operator.address_lines:
            rows.append((_("Address"), ", ".join(operator.address_lines)))
        if operator.email:
            rows.append((_("E-mail"), operator.email))
        blocks.append(fields(rows))
    else:
        blocks.append(
            warning(_("The operator of the Termino platform has not entered its name and address yet."))
        )
    providers = facts.providers
    if providers:
        blocks.append(para(_("It uses these sub-processors:")))
        blocks += content.subprocessor_table(providers)
    return blocks


def platform_privacy_url() -> str:
    from django.conf import settings

    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}/datenschutz/"
