"""`Cache-Control: no-store` on every answer that says nothing about caching itself.

Backoffice pages, the staff API, a customer's manage page and its API, privacy requests and the staff
admin all carry personal data; a browser's disk cache, a shared computer's back button or a proxy must
keep none of it. Deciding page by page would miss the next page, so nothing is stored by default, and
what is meant to be cached says so: static files and uploads (by path; whitenoise and nginx set their own
headers in production) and views that set Cache-Control themselves (embed.js, for one).
"""

from django.conf import settings

HEADER = "Cache-Control"
NO_STORE = "no-store"


def cacheable_prefixes() -> tuple[str, ...]:
    return tuple(p for p in (settings.STATIC_URL, settings.MEDIA_URL) if p and p.startswith("/"))


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.cacheable = cacheable_prefixes()

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response and not request.path.startswith(self.cacheable):
            response[HEADER] = NO_STORE
        return response
