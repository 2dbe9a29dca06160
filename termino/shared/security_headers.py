"""Content-Security-Policy on every answer.

Scripts only from our own origin, never inline: an injected <script> or onclick does not run. Styles
need 'unsafe-inline': pages set geometry and colours in style attributes (calendar blocks, service
swatches, the booking page's brand colour), which CSP cannot allow by hash. A view may set its own
directives (the booking page sets `frame-ancestors` to the origins its business lists, see
booking/framing.py); those win, and the rest of the policy is added around them.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"

DEFAULT_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",  # the favicon is a data: URL
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    # Nobody frames our pages (X-Frame-Options DENY says the same to old browsers); the booking page
    # overrides this with its business's origins.
    "frame-ancestors": "'none'",
    # form-action is left out on purpose: Chrome applies it to the redirect after a POST, and checkout
    # (Stripe) and the staff admin's sign-in-as (another host) redirect elsewhere after a form.
}

# Swagger UI at /api/docs/ loads its bundle from jsDelivr (drf-spectacular's default) and inlines a style;
# its start script is served from our origin (`?script`), so script-src stays free of 'unsafe-inline'.
SWAGGER_CDN = "https://cdn.jsdelivr.net"
PATH_EXTRAS: dict[str, dict[str, str]] = {
    "/api/docs/": {"script-src": SWAGGER_CDN, "style-src": SWAGGER_CDN, "img-src": SWAGGER_CDN},
}


def parse(policy: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in policy.split(";"):
        name, _sep, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives


def serialise(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


def policy_for(path: str, existing: str = "") -> str:
    directives = dict(getattr(settings, "CSP_POLICY", None) or DEFAULT_POLICY)
    for prefix, extras in PATH_EXTRAS.items():
        if path.startswith(prefix):
            for name, value in extras.items():
                directives[name] = f"{directives.get(name, '')} {value}".strip()
    directives.update(parse(existing))  # what the view said about its own framing wins
    return serialise(directives)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response[HEADER] = policy_for(request.path, response.get(HEADER, ""))
        return response
