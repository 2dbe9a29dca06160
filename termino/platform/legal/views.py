"""The platform's privacy notice at /datenschutz/ (the current version), its earlier versions, and the
versions as PDF. Public pages of the platform host."""

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from termino.shared import documents

from . import selectors, services
from .models import DocumentKind


def _language(request) -> str:
    language = (request.GET.get("lang") or translation.get_language() or "de")[:2]
    return language if language in services.LANGUAGES else "de"


def version_line(version) -> str:
    return _("Version %(number)d, published on %(date)s") % {
        "number": version.number,
        "date": formats.date_format(version.published_at, "DATE_FORMAT"),
    }


def _page(request, version, *, current: bool):
    language = _language(request)
    return TemplateResponse(
        request,
        "legal/privacy.html",
        {
            "document": selectors.version_document(version, language),
            "version": version,
            "version_line": version_line(version),
            "current": current,
            "versions": selectors.version_list(DocumentKind.PRIVACY)[:50],
        },
    )


@require_GET
def privacy_current(request):
    return _page(request, services.document_current(DocumentKind.PRIVACY), current=True)


@require_GET
def privacy_version(request, number: int):
    version = selectors.version_get(DocumentKind.PRIVACY, number)
    if version is None:
        raise Http404
    latest = selectors.version_list(DocumentKind.PRIVACY).first()
    return _page(request, version, current=latest is not None and latest.pk == version.pk)


@require_GET
def privacy_pdf(request, number: int):
    version = selectors.version_get(DocumentKind.PRIVACY, number)
    if version is None:
        raise Http404
    language = _language(request)
    document = selectors.version_document(version, language)
    with translation.override(language):
        line = version_line(version)
    pdf = documents.to_pdf(document, version_line=line, author=selectors.operator_get().name)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="privacy-notice-v{version.number}-{language}.pdf"'
    return response
