"""How a refused request is answered: JSON under /api/, a small page elsewhere, in the request's language.

The guard runs before the tenant routing and LocaleMiddleware, so the language comes from the request
alone (language cookie, Accept-Language, else LANGUAGE_CODE). `bad_request` is both URLconfs' handler400:
Django's own refusals (a form body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, ...) are answered
the same way, and a body too large is 413 rather than Django's 400.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

TITLES = {
    400: _("Bad request"),
    413: _("Request too large"),
    414: _("Address too long"),
    503: _("Temporarily unavailable"),
}


class Refusal:
    """A status and the sentence saying why: a lazy translation, its %(name)s placeholders from `params`
    (`size` in bytes, shown as "2.5 MB")."""

    def __init__(self, status: int, message, **params):
        self.status, self.message, self.params = status, message, params

    def text(self) -> str:
        params = {k: filesizeformat(v) if k == "size" else v for k, v in self.params.items()}
        return str(self.message) % params if params else str(self.message)


def too_large(limit: int) -> Refusal:
    return Refusal(413, _("The request is too large: at most %(size)s can be sent at once."), size=limit)


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def refusal_response(request, refusal: Refusal) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        text = refusal.text()
        if is_api(request):
            response = JsonResponse({"detail": text}, status=refusal.status)
        else:
            page = render_to_string(
                "refused.html",
                {
                    "status": refusal.status,
                    "title": TITLES.get(refusal.status, TITLES[400]),
                    "text": text,
                    "language": language,
                },
            )
            response = HttpResponse(page, status=refusal.status, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


UNREADABLE = Refusal(400, _("The request could not be read."))
TOO_MANY_FIELDS = Refusal(400, _("The form has too many fields."))


def bad_request(request, exception=None):
    """handler400 of both URLconfs."""
    if isinstance(exception, RequestDataTooBig):
        refusal = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        refusal = TOO_MANY_FIELDS
    else:
        refusal = UNREADABLE
    return refusal_response(request, refusal)
