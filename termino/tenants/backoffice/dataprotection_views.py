"""Data protection of the business, /data-protection/: the data-processing agreement with the platform (AV-
Vertrag, Art. 28 GDPR) to read, accept (the owner) and download as PDF with both annexes, and the record of
processing activities (Art. 30 GDPR) as a page, PDF or Markdown, in German or English."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from termino.platform.legal import selectors as legal
from termino.platform.legal import services as legal_services
from termino.platform.legal.models import DocumentKind
from termino.platform.legal.views import version_line
from termino.shared import documents
from termino.shared.documents import fields
from termino.tenants.compliance import documents as compliance_documents
from termino.tenants.compliance import services as compliance

from .permissions import MANAGERS, OWNER, role_required

LANGUAGES = ("de", "en")


def _language(request) -> str:
    language = (request.GET.get("lang") or translation.get_language() or "de")[:2]
    return language if language in LANGUAGES else "de"


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"section": "dataprotection", **context}, status=status)


def _slug(request) -> str:
    return request.tenant.slug or "business"


@require_GET
@role_required(*MANAGERS)
def index(request):
    tenant = request.tenant
    current = legal_services.document_current(DocumentKind.DPA)
    notice = compliance.booking_notice_current(tenant)
    acceptance = compliance.notice_acceptance_latest()
    return _render(
        request,
        "backoffice/dataprotection/index.html",
        {
            "dpa": legal.DpaState(current=current, accepted=legal.dpa_acceptance_latest(tenant)),
            "notice": notice,
            "notice_accepted": acceptance if acceptance and acceptance.version == notice.version else None,
        },
    )


@role_required(*MANAGERS)
def dpa(request):
    """GET: the current agreement; POST (owner): accept the version shown."""
    tenant = request.tenant
    current = legal_services.document_current(DocumentKind.DPA)
    status = 200
    if request.method == "POST":
        if request.user.role not in OWNER:
            raise Http404
        number = request.POST.get("version", "")
        try:
            legal_services.dpa_accept(
                tenant=tenant, user=request.user, version_number=int(number) if number.isdigit() else 0
            )
        except legal_services.StaleVersion as exc:
            messages.error(request, exc.message)
            status = 409
        else:
            messages.success(
                request,
                _("Thank you. You have accepted version %(number)d of the agreement.")
                % {"number": current.number},
            )
            return redirect("dataprotection:dpa")
        current = legal_services.document_current(DocumentKind.DPA)
    elif request.method != "GET":
        raise Http404
    state = legal.DpaState(current=current, accepted=legal.dpa_acceptance_latest(tenant))
    return _render(
        request,
        "backoffice/dataprotection/dpa.html",
        {
            "document": legal.version_document(current, _language(request)),
            "version_line": version_line(current),
            "state": state,
            "history": legal.dpa_acceptances(tenant)[:20],
            "language": _language(request),
        },
        status=status,
    )


def dpa_document_for(tenant, version, acceptance, language: str) -> documents.Document:
    """The stored agreement with the business named as controller and its acceptance, for the PDF."""
    document = legal.version_document(version, language)
    with translation.override(language):
        place = " ".join(part for part in (tenant.postcode, tenant.city) if part)
        rows = [
            (_("Controller (the business)"), ", ".join(p for p in (tenant.name, tenant.street, place) if p))
        ]
        if acceptance is not None:
            rows.append(
                (
                    _("Accepted"),
                    _("on %(when)s by %(who)s (%(login)s)")
                    % {
                        "when": formats.date_format(
                            _local(acceptance.accepted_at, tenant), "DATETIME_FORMAT"
                        ),
                        "who": acceptance.user_name or acceptance.username,
                        "login": acceptance.username,
                    },
                )
            )
        else:
            rows.append((_("Accepted"), _("not yet")))
    return documents.Document(
        title=document.title,
        language=document.language,
        intro=(fields(rows), *document.intro),
        sections=document.sections,
        labels=document.labels,
    )


def _local(moment, tenant):
    from zoneinfo import ZoneInfo

    from termino.shared import timeutils

    return timeutils.localtime(moment, ZoneInfo(tenant.time_zone or "Europe/Berlin"))


@require_GET
@role_required(*MANAGERS)
def dpa_pdf(request):
    """The agreement with both annexes as PDF: the current version, or `?version=N` (one the business
    accepted, or any published one)."""
    tenant = request.tenant
    number = request.GET.get("version", "")
    if number:
        version = legal.version_get(DocumentKind.DPA, int(number)) if number.isdigit() else None
        if version is None:
            raise Http404
    else:
        version = legal_services.document_current(DocumentKind.DPA)
    acceptance = next((a for a in legal.dpa_acceptances(tenant) if a.version_id == version.pk), None)
    language = _language(request)
    document = dpa_document_for(tenant, version, acceptance, language)
    with translation.override(language):
        line = version_line(version)
    pdf = documents.to_pdf(document, version_line=line, author=legal.operator_get().name)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"av-vertrag-{_slug(request)}-v{version.number}-{language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _record(request):
    language = _language(request)
    return compliance_documents.processing_record(language, request.tenant), language


@require_GET
@role_required(*MANAGERS)
def record(request):
    document, language = _record(request)
    return _render(
        request, "backoffice/dataprotection/record.html", {"document": document, "language": language}
    )


@require_GET
@role_required(*MANAGERS)
def record_pdf(request):
    document, language = _record(request)
    pdf = documents.to_pdf(document, author=request.tenant.name)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="verarbeitungsverzeichnis-{_slug(request)}-{language}.pdf"'
    )
    return response


@require_GET
@role_required(*MANAGERS)
def record_markdown(request):
    document, language = _record(request)
    response = HttpResponse(documents.to_markdown(document), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="verarbeitungsverzeichnis-{_slug(request)}-{language}.md"'
    )
    return response
