import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import SLUG_PATTERN

# Addresses that belong to the platform, its infrastructure or could be mistaken for it.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "imap",
        "pop",
        "ftp",
        "ns1",
        "ns2",
        "dns",
        "mx",
        "webmail",
        "cdn",
        "assets",
        "files",
        "status",
        "help",
        "support",
        "docs",
        "blog",
        "billing",
        "pay",
        "payments",
        "stripe",
        "auth",
        "login",
        "signup",
        "register",
        "account",
        "accounts",
        "dashboard",
        "public",
        "root",
        "system",
        "internal",
        "test",
        "staging",
        "dev",
        "demo-admin",
        "termino",
        "security",
        "abuse",
        "postmaster",
        "hostmaster",
        "webmaster",
        "info",
        "book",
        "embed",
        "widget",
        "sms",
        "email",
        "beta",
        "alpha",
        "preview",
    }
)


def validate_slug(value: str) -> None:
    if not re.fullmatch(SLUG_PATTERN, value) or "--" in value:
        raise ValidationError(
            _(
                "Use 3 to 40 lowercase letters, digits and hyphens; start and end with a letter or digit, "
                "no double hyphens."
            ),
            code="invalid",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved. Please choose another one."), code="reserved")
