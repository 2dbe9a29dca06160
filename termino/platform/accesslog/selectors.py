"""Traffic figures for platform staff, from the access log (schema `public`)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Concat, TruncDate

from termino.platform.tenancy.models import Tenant
from termino.shared import timeutils

from .models import AccessLogEntry

TOP = 10
# Requests of the booking widget's API, scripts and calendar files are not pages someone looked at.
NOT_PAGES = Q(path__startswith="/api/") | Q(path__regex=r"\.[A-Za-z0-9]{1,5}$")


@dataclass
class Bar:
    label: str
    count: int
    share: int = 0  # percent of the largest bar
    width: int = 0  # the same in steps of 5 (CSS classes w0…w100: no inline styles under a strict CSP)


@dataclass
class Day:
    day: date
    views: int
    visitors: int
    share: int = 0
    width: int = 0


@dataclass
class Traffic:
    days: list[Day]
    total_views: int
    pages: list[Bar] = field(default_factory=list)
    referrers: list[Bar] = field(default_factory=list)
    browsers: list[Bar] = field(default_factory=list)
    systems: list[Bar] = field(default_factory=list)
    languages: list[Bar] = field(default_factory=list)
    statuses: list[Bar] = field(default_factory=list)


def _value(bar: Bar | Day) -> int:
    return bar.count if isinstance(bar, Bar) else bar.views


def _shares(bars: list) -> list:
    top = max((_value(bar) for bar in bars), default=0)
    for bar in bars:
        value = _value(bar)
        bar.share = round(100 * value / top) if top else 0
        bar.width = max(5, 5 * round(bar.share / 5)) if value else 0
    return bars


def window_start(*, days: int, now: datetime | None = None) -> datetime:
    """Midnight (server time zone) of the first of the last `days` days, today included."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timeutils.local_date(now or timeutils.now(), zone)
    return timeutils.local_midnight(today - timedelta(days=days - 1), zone)


def traffic_entries(*, days: int, site: str = "", now: datetime | None = None) -> QuerySet[AccessLogEntry]:
    entries = AccessLogEntry.objects.filter(at__gte=window_start(days=days, now=now))
    return entries.filter(schema=site) if site else entries


def traffic_sites(*, days: int, now: datetime | None = None) -> list[tuple[str, str]]:
    """(schema, name) of every site with requests in the window: the platform first, then by name."""
    schemas = set(traffic_entries(days=days, now=now).values_list("schema", flat=True).distinct())
    names = dict(Tenant.objects.filter(schema_name__in=schemas).values_list("schema_name", "name"))
    sites = [(schema, names.get(schema) or schema) for schema in schemas]
    return sorted(sites, key=lambda s: (s[0] != settings.PUBLIC_SCHEMA_NAME, s[1].lower()))


def _top(entries: QuerySet, field_name: str, *, empty_label: str) -> list[Bar]:
    rows = entries.values(field_name).annotate(n=Count("id")).order_by("-n", field_name)[:TOP]
    return _shares([Bar(label=row[field_name] or empty_label, count=row["n"]) for row in rows])


def traffic_summary(
    *, days: int = 14, site: str = "", now: datetime | None = None, unknown: str = "?"
) -> Traffic:
    """Page views per day (GET answered 2xx, API calls and files excluded), with visitors per day (distinct
    pseudonyms: they change daily, so visitors are counted per day only), and the top pages, external
    referrers, browsers, operating systems and languages of those views; status classes of all requests."""
    zone = ZoneInfo(settings.TIME_ZONE)
    entries = traffic_entries(days=days, site=site, now=now)
    views = entries.filter(method="GET", status__gte=200, status__lt=300).exclude(NOT_PAGES)

    per_day = {
        row["day"]: row
        for row in views.annotate(day=TruncDate("at", tzinfo=zone))
        .values("day")
        .annotate(views=Count("id"), visitors=Count("visitor", distinct=True))
    }
    first = timeutils.local_date(window_start(days=days, now=now), zone)
    daily = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = per_day.get(day, {})
        daily.append(Day(day=day, views=row.get("views", 0), visitors=row.get("visitors", 0)))
    _shares(daily)

    if site:
        pages = _top(views, "path", empty_label=unknown)
    else:
        rows = views.values("host", "path").annotate(n=Count("id")).order_by("-n", "host", "path")[:TOP]
        pages = _shares([Bar(label=f"{row['host']}{row['path']}", count=row["n"]) for row in rows])
    own_host = Q(referrer__startswith=Concat(Value("http://"), F("host"))) | Q(
        referrer__startswith=Concat(Value("https://"), F("host"))
    )
    external = views.exclude(referrer="").exclude(own_host)
    statuses = entries.values("status").annotate(n=Count("id")).order_by("status")
    by_class: dict[str, int] = {}
    for row in statuses:
        key = f"{row['status'] // 100}xx"
        by_class[key] = by_class.get(key, 0) + row["n"]
    return Traffic(
        days=daily,
        total_views=sum(d.views for d in daily),
        pages=pages,
        referrers=_top(external, "referrer", empty_label=unknown),
        browsers=_top(views, "browser", empty_label=unknown),
        systems=_top(views, "os", empty_label=unknown),
        languages=_top(views, "language", empty_label=unknown),
        statuses=_shares([Bar(label=k, count=v) for k, v in sorted(by_class.items())]),
    )
