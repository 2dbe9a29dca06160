"""The cookies we set, for the cookie page at /cookies/ (on the platform's host and every business's).

Read from the settings that decide them, so the page cannot drift from what the browser receives.
All are strictly necessary for a service the visitor asked for, so no consent banner is needed
(§ 25 (2) no. 2 TDDDG). The booking page and the public API set none.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET


@dataclass(frozen=True)
class CookieInfo:
    name: str
    purpose: str
    expiry: str


def _expiry(age_seconds: int | None) -> str:
    if not age_seconds:
        return str(_("When you close your browser"))
    days = round(age_seconds / 86400)
    if days == 365:
        return str(_("1 year"))
    return str(_("%(days)d days") % {"days": days})


def cookie_list() -> list[CookieInfo]:
    session_expiry = (
        _expiry(None) if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else _expiry(settings.SESSION_COOKIE_AGE)
    )
    return [
        CookieInfo(
            settings.SESSION_COOKIE_NAME,
            str(
                _(
                    "Keeps you logged in while you work in the backoffice. It holds only a random "
                    "identifier; your login ends at the latest %(hours)d hours after your last change."
                )
                % {"hours": settings.SESSION_COOKIE_AGE // 3600}
            ),
            session_expiry,
        ),
        CookieInfo(
            settings.CSRF_COOKIE_NAME,
            str(_("Protects forms against requests forged by other websites (CSRF).")),
            _expiry(settings.CSRF_COOKIE_AGE),
        ),
        CookieInfo(
            settings.USERNAME_COOKIE_NAME,
            str(_("Remembers your login name (your e-mail address) so the login form is filled in.")),
            _expiry(settings.USERNAME_COOKIE_AGE),
        ),
        CookieInfo(
            settings.LANGUAGE_COOKIE_NAME,
            str(_("Remembers the language you chose with the DE/EN switch; set only when you use it.")),
            _expiry(settings.LANGUAGE_COOKIE_AGE),
        ),
    ]


@require_GET
def cookies_page(request):
    return TemplateResponse(request, "legal/cookies.html", {"cookies": cookie_list()})
