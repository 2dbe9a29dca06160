"""Every cookie Termino sets, in one registry: the cookie page at /cookies/ (on the platform's host and every
business's), the platform's privacy notice and the consistency test read it.

Names, lifetimes and attributes are read from the settings that decide them, so the list cannot drift from
what browsers receive. Cookies set by Django itself (session, CSRF, language) come from its middleware and
views under these settings; a cookie of our own is set only through `set_cookie` below, which refuses a
name that is not registered (tests/platform/legal/test_consistency.py checks the source for any other
`set_cookie` call and walks the pages of both hosts for cookies the registry does not know).

All are strictly necessary for a service the visitor asked for, so no consent banner is needed
(§ 25 (2) no. 2 TDDDG). The booking page and the public API set none.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET


class UnregisteredCookie(RuntimeError):
    """A cookie that the registry (and so the cookie page and the privacy notice) does not list."""


@dataclass(frozen=True)
class CookieInfo:
    name: str
    purpose: str
    expiry: str
    # Whose cookie: ours ("first") or another site's ("third"). Termino sets first-party cookies only.
    party: str = "first"
    # Where it is set: "platform", "business" or both.
    hosts: tuple[str, ...] = ("platform", "business")
    max_age: int | None = None  # seconds; None: until the browser is closed

    @property
    def first_party(self) -> bool:
        return self.party == "first"


def _expiry(age_seconds: int | None) -> str:
    if not age_seconds:
        return str(_("When you close your browser"))
    days = round(age_seconds / 86400)
    if days == 365:
        return str(_("1 year"))
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


def cookie_list() -> list[CookieInfo]:
    session_age = None if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else settings.SESSION_COOKIE_AGE
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
            _expiry(session_age),
            max_age=session_age,
        ),
        CookieInfo(
            settings.CSRF_COOKIE_NAME,
            str(_("Protects forms against requests forged by other websites (CSRF).")),
            _expiry(settings.CSRF_COOKIE_AGE),
            max_age=settings.CSRF_COOKIE_AGE,
        ),
        CookieInfo(
            settings.USERNAME_COOKIE_NAME,
            str(_("Remembers your login name (your e-mail address) so the login form is filled in.")),
            _expiry(settings.USERNAME_COOKIE_AGE),
            hosts=("business",),
            max_age=settings.USERNAME_COOKIE_AGE,
        ),
        CookieInfo(
            settings.LANGUAGE_COOKIE_NAME,
            str(_("Remembers the language you chose with the DE/EN switch; set only when you use it.")),
            _expiry(settings.LANGUAGE_COOKIE_AGE),
            max_age=settings.LANGUAGE_COOKIE_AGE,
        ),
    ]


def registered_names() -> set[str]:
    return {cookie.name for cookie in cookie_list()}


def set_cookie(response, name: str, value: str) -> None:
    """Set one of our own cookies, with the lifetime the registry states. Refuses unregistered names."""
    cookie = next((c for c in cookie_list() if c.name == name), None)
    if cookie is None:
        raise UnregisteredCookie(
            f"cookie {name!r} is not in termino/shared/cookies.py: add it there, so the cookie page and the "
            "privacy notice state it"
        )
    response.set_cookie(  # the one call of its kind in termino/ (tests check the source)
        name,
        value,
        max_age=cookie.max_age,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@require_GET
def cookies_page(request):
    return TemplateResponse(request, "legal/cookies.html", {"cookies": cookie_list()})
