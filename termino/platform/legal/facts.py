"""What the code decides, read from the code and the settings that enforce it, for the legal documents.

Nothing here is typed in by the operator: the cookies come from the cookie registry, the log fields from
the access-log recorder, the storage periods from the settings the clean-up jobs read, the security
measures from the settings and classes that implement them. tests/platform/legal/test_consistency.py
checks that nothing exists in the code that these lists do not state, and the other way round.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from termino.platform.accesslog import pseudonym, recording
from termino.shared import cookies
from termino.shared.hashers import Argon2idHasher

# --- Storage periods -------------------------------------------------------------------------------------

# A setting whose name says it is about time or keeping (these words) is either a storage period the
# privacy notice states (RETENTION_SETTINGS) or named in NOT_RETENTION with the reason it is none. A new
# setting of that kind fails the consistency test until it is put in one of them.
RETENTION_NAME = re.compile(r"DAYS|RETENTION|TTL|KEEP|PRUNE|PURGE|EXPIR|COOLOFF")

NOT_RETENTION = {
    "API_TOKEN_DAYS": "how long an API token is valid; what a token holds is in the login data",
    "BILLING_GRACE_DAYS": "time to pay after a failed payment before the business is suspended",
    "BILLING_TRIAL_DAYS": "length of the free trial",
    "SIGNUP_CONFIRM_LINK_DAYS": "how long a confirmation link works",
    "WEBHOOKS_RETRY_DAYS": "how long a webhook delivery is retried before it fails",
    "CALDAV_PULL_DAYS": "how far ahead a connected calendar's busy times are read, not how long kept",
    "AXES_USE_ATTEMPT_EXPIRATION": "a switch of django-axes; the counters' lifetime is AXES_COOLOFF_TIME",
    "AXES_COOLOFF_MESSAGE": "django-axes' text for a locked-out login (our own page replaces it)",
    # Cookie lifetimes: stated in the cookie table, which is built from these very settings.
    "CSRF_COOKIE_AGE": "cookie lifetime (cookie table)",
    "LANGUAGE_COOKIE_AGE": "cookie lifetime (cookie table)",
    "SESSION_COOKIE_AGE": "cookie lifetime (cookie table)",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": "cookie lifetime (cookie table)",
    "USERNAME_COOKIE_AGE": "cookie lifetime (cookie table)",
}


def days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def years(n: int) -> str:
    return ngettext("%(n)d year", "%(n)d years", n) % {"n": n}


@dataclass(frozen=True)
class Period:
    what: str  # the data
    how_long: str  # the period and what happens then
    setting: str  # where it is decided


def retention_periods() -> list[Period]:
    """The platform's own storage periods, each from the setting its clean-up job reads."""
    cooloff_minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    secret_days = pseudonym.SECRET_TTL_SECONDS // 86400
    return [
        Period(
            _("Server log (access log)"),
            _("deleted after %(period)s; the daily key of the IP pseudonym after %(key)s")
            % {"period": days(settings.ACCESS_LOG_DAYS), "key": days(secret_days)},
            "ACCESS_LOG_DAYS",
        ),
        Period(
            _("Full IP address of a login"),
            _(
                "shortened after %(period)s to its network (the last part of an IPv4 address, the last "
                "80 bits of an IPv6 address removed); the login record itself stays as long as the account"
            )
            % {"period": days(settings.LOGIN_IP_DAYS)},
            "LOGIN_IP_DAYS",
        ),
        Period(
            _("Counters of failed logins (login name and IP address)"),
            ngettext(
                "deleted %(n)d minute after the last failed attempt",
                "deleted %(n)d minutes after the last failed attempt",
                cooloff_minutes,
            )
            % {"n": cooloff_minutes},
            "AXES_COOLOFF_TIME",
        ),
        Period(
            _("A business that never confirmed its e-mail address"),
            _("deleted with all its data %(period)s after signup (the owner is warned a day before)")
            % {"period": days(settings.SIGNUP_UNCONFIRMED_REMOVE_DAYS)},
            "SIGNUP_UNCONFIRMED_REMOVE_DAYS",
        ),
        Period(
            _("All data of a business after its contract ends"),
            _(
                "deleted %(period)s after the cancellation takes effect; until then the owner can export "
                "everything. Invoices are kept by the payment provider for the periods of tax law"
            )
            % {"period": days(settings.BILLING_RETENTION_DAYS)},
            "BILLING_RETENTION_DAYS",
        ),
        Period(
            _("Nightly encrypted copy of a business's data (plans that include it)"),
            _("each copy deleted after %(periods)s; it holds no passwords or API keys")
            % {"periods": nightly_periods()},
            "NIGHTLY_EXPORT_DAYS",
        ),
        Period(
            _("Webhook delivery log of a business (events sent to its own systems, with their answers)"),
            _("deleted %(period)s after a delivery's last attempt")
            % {"period": days(settings.WEBHOOKS_LOG_DAYS)},
            "WEBHOOKS_LOG_DAYS",
        ),
        Period(
            _("Copy of a business taken before it is restored from a backup"),
            _("deleted after %(period)s (it lets the restore be undone)")
            % {"period": days(settings.RESTORE_SAFETY_DAYS)},
            "RESTORE_SAFETY_DAYS",
        ),
    ]


def nightly_periods() -> str:
    """Reads like "14 days (professional), 30 days (business)"; "none" without nightly copies."""
    kept = sorted(settings.NIGHTLY_EXPORT_DAYS.items(), key=lambda item: item[1])
    return ", ".join(f"{days(n)} ({plan})" for plan, n in kept) or _("no copies are made")


RETENTION_SETTINGS = (
    "ACCESS_LOG_DAYS",
    "LOGIN_IP_DAYS",
    "AXES_COOLOFF_TIME",
    "SIGNUP_UNCONFIRMED_REMOVE_DAYS",
    "BILLING_RETENTION_DAYS",
    "NIGHTLY_EXPORT_DAYS",
    "RESTORE_SAFETY_DAYS",
    "WEBHOOKS_LOG_DAYS",
)


def retention_like_settings() -> set[str]:
    return {name for name in dir(settings) if name.isupper() and RETENTION_NAME.search(name)}


def undeclared_retention_settings() -> set[str]:
    """Settings that look like storage periods and are neither stated nor explained: must be empty."""
    return retention_like_settings() - set(RETENTION_SETTINGS) - set(NOT_RETENTION)


# The business's own retention rules (tenants/retention RetentionPolicy): what each rule does, with its
# default. The consistency test fails when the policy gains a rule this does not describe.
def business_rule_texts() -> dict:
    return {
        "customer_erase_years": lambda v: (
            _("Customers without appointments, notes, consents or messages for %(period)s are erased")
            % {"period": years(v)}
            if v
            else _("Customers are kept until they are erased by hand")
        ),
        "appointment_anonymise_years": lambda v: (
            _("Appointments are anonymised %(period)s after they took place (no name, notes or links)")
            % {"period": years(v)}
            if v
            else _("Appointments are kept with the customer's name")
        ),
        "message_text_days": lambda v: (
            _("Texts and recipients of sent SMS and e-mails are deleted after %(period)s")
            % {"period": days(v)}
            if v
            else _("Texts of sent messages are kept")
        ),
        "login_ip_days": lambda v: (
            _("Full IP addresses of the team's logins are shortened after %(period)s") % {"period": days(v)}
        ),
    }


def business_retention_defaults() -> list[str]:
    from termino.tenants.retention.models import RetentionPolicy

    texts = business_rule_texts()
    return [texts[name](RetentionPolicy._meta.get_field(name).get_default()) for name in texts]


def business_retention_rules(policy) -> list[str]:
    """One business's rules as sentences (its policy row)."""
    snapshot = policy.snapshot()
    texts = business_rule_texts()
    return [texts[name](snapshot[name]) for name in texts]


# --- Server log ------------------------------------------------------------------------------------------


def log_fields() -> list[tuple[str, str]]:
    return [(name, str(text)) for name, text in recording.LOGGED_FIELDS.items()]


# --- Cookies ---------------------------------------------------------------------------------------------


def cookie_rows() -> list[tuple[str, str, str, str]]:
    party = {"first": _("ours (first party)"), "third": _("third party")}
    return [(c.name, c.purpose, c.expiry, str(party[c.party])) for c in cookies.cookie_list()]


# --- Services the code uses ------------------------------------------------------------------------------


def sms_in_use() -> bool:
    """SMS leave the platform through a provider (LOX24); "console" and "file" only write them locally."""
    return settings.SMS_BACKEND == "lox24"


def email_provider_in_use() -> bool:
    return settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


def payments_in_use() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


# --- Security measures -----------------------------------------------------------------------------------


def _min_password_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith("MinimumLengthValidator"):
            return int(validator.get("OPTIONS", {}).get("min_length", 8))
    return 8


def _retention_schedule() -> str:
    entry = settings.CELERY_BEAT_SCHEDULE.get("retention-nightly", {}).get("schedule")
    hour, minute = getattr(entry, "hour", None), getattr(entry, "minute", None)
    if hour and minute and len(hour) == 1 and len(minute) == 1:
        return _("every night at %(time)s UTC") % {"time": f"{min(hour):02d}:{min(minute):02d}"}
    return _("every night")


def transport_measures() -> list[str]:
    items = []
    if settings.SECURE_SSL_REDIRECT:
        items.append(_("Every connection is encrypted with TLS (HTTPS); plain HTTP is redirected to HTTPS."))
    else:
        items.append(
            _("HTTPS is expected from the web server in front of the application (TLS termination).")
        )
    if settings.SECURE_HSTS_SECONDS:
        items.append(
            _("Browsers are told to use only HTTPS for %(period)s (HSTS%(sub)s).")
            % {
                "period": days(settings.SECURE_HSTS_SECONDS // 86400),
                "sub": _(", including every business's address")
                if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
                else "",
            }
        )
    if settings.SESSION_COOKIE_SECURE:
        items.append(_("Login and form cookies are sent over encrypted connections only."))
    items.append(
        _(
            "Pages carry a Content Security Policy, may not be framed by other sites (except a booking page "
            "by the websites its business lists) and are never stored in browser or proxy caches."
        )
    )
    return items


def access_measures() -> list[str]:
    hasher = Argon2idHasher
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return [
        _(
            "Passwords are stored only as Argon2id hashes (%(memory)d MiB memory, %(passes)d passes, "
            "%(lanes)d lane), never in readable form; they must have at least %(length)d characters and "
            "must not be common or only digits."
        )
        % {
            "memory": hasher.memory_cost // 1024,
            "passes": hasher.time_cost,
            "lanes": hasher.parallelism,
            "length": _min_password_length(),
        },
        _(
            "After %(n)d failed logins for one login name from one IP address, logging in is blocked for "
            "%(minutes)d minutes; every login attempt is recorded and shown to the business owner."
        )
        % {"n": settings.AXES_FAILURE_LIMIT, "minutes": cooloff},
        _(
            "Roles in each business: the owner and managers see everything, a staff member only their own "
            "calendar column; the same rules apply to the API."
        ),
        _(
            "API tokens are stored only as SHA-256 hashes, expire after %(period)s and end with a password "
            "change."
        )
        % {"period": days(settings.API_TOKEN_DAYS)},
        _(
            "Platform staff sign in with a password and a one-time code (TOTP); their session ends after "
            "%(hours)d hours at the latest. Signing in as a business's user needs a reason, lasts at most "
            "%(minutes)d minutes, is marked by a banner the whole time and is written to an audit log that "
            "cannot be changed or deleted."
        )
        % {
            "hours": settings.STAFFADMIN_SESSION_SECONDS // 3600,
            "minutes": settings.STAFFADMIN_IMPERSONATION_MINUTES,
        },
    ]


def separation_measures() -> list[str]:
    return [
        _(
            "Each business has a database schema of its own: its customers, appointments, messages, logins "
            "and sessions are stored apart from every other business's, and a login of one business is "
            "unknown at any other."
        ),
        _("Uploaded files are stored per business and served only at that business's own address."),
        _(
            "Background jobs carry the business they work for and refuse to run without one; automated "
            "tests prove for every address of the application that one business cannot see or change "
            "another's data."
        ),
    ]


def logging_measures() -> list[str]:
    return [
        _(
            "The server log holds no IP addresses, only a pseudonym whose key changes daily; entries are "
            "deleted after %(period)s."
        )
        % {"period": days(settings.ACCESS_LOG_DAYS)},
        _(
            "Every view, export, change and erasure of a customer's personal data is written to the "
            "business's audit trail, which cannot be changed or deleted."
        ),
        _("Actions of platform staff are written to an audit log that cannot be changed or deleted."),
    ]


def retention_measures() -> list[str]:
    return [
        _(
            "Each business's retention rules are applied %(when)s by background jobs, in every business "
            "separately; each run is recorded with what it changed."
        )
        % {"when": _retention_schedule()},
        _(
            "Customers' requests (access, erasure, restriction, objection) can be answered from the "
            "backoffice; customers can ask through the booking page."
        ),
    ]
