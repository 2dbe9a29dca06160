"""The words of an offer to a waiting customer, in the business's language for its customers (German with
"Sie", or English) and its time zone, with the time zone stated; written when queued (the link is the
offer's own)."""

from datetime import datetime

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from termino.platform.tenancy.routing import primary_url
from termino.shared import timeutils
from termino.tenants.notifications.direct import Written


def language(tenant) -> str:
    return "en" if (tenant.language or "de")[:2] == "en" else "de"


def offer_path(token: str) -> str:
    return f"/book/waitlist/offer/{token}/"


def _day(moment: datetime, zone) -> str:
    german = translation.get_language().startswith("de")
    return date_format(timeutils.localtime(moment, zone), "l, j. F Y" if german else "l, j F Y")


def offer_text(*, tenant, service_name: str, start: datetime, expires_at: datetime, token: str) -> Written:
    zone = timeutils.zone(tenant.time_zone)
    with translation.override(language(tenant)):
        values = {
            "business": tenant.name,
            "service": service_name,
            "date": _day(start, zone),
            "time": timeutils.wall_time(start, zone),
            "zone": tenant.time_zone,
            "until": _("%(day)s, %(time)s")
            % {"day": _day(expires_at, zone), "time": timeutils.wall_time(expires_at, zone)},
            "link": primary_url(tenant, offer_path(token)),
        }
        subject = _("A time has become free at %(business)s") % values
        email = (
            _(
                "Hello,\n\n"
                "you are on the waitlist of %(business)s. A time has become free:\n\n"
                "%(service)s\n"
                "%(date)s, %(time)s (%(zone)s)\n\n"
                "We are keeping it for you until %(until)s. To book it, open this link and confirm:\n"
                "%(link)s\n\n"
                "We have offered this time to a few people on the waitlist: whoever confirms first gets "
                "it. If it is gone, you stay on the waitlist.\n\n"
                "Kind regards\n%(business)s"
            )
            % values
        )
        sms = (
            _(
                "%(business)s: %(service)s on %(date)s at %(time)s (%(zone)s) has become free. Book it until "
                "%(until)s: %(link)s"
            )
            % values
        )
    return Written(subject=subject, email=email, sms=sms)
