"""Ends a staff member's session as a business user when its time is over or it was ended elsewhere.

Goes after AuthenticationMiddleware in settings.MIDDLEWARE. Costs nothing for ordinary sessions; for an
impersonated one, one indexed query in `public` per request.
"""

from django.http import HttpResponseRedirect

from . import impersonation


class ImpersonationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and impersonation.IMPERSONATION_GRANT in session:
            why = impersonation.over(request)
            if why:
                return HttpResponseRedirect(impersonation.finish(request, why=why))
        return self.get_response(request)
