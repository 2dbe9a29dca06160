"""Time arithmetic in one place.

The rule of the code base: an instant is an aware `datetime` in UTC, and arithmetic on instants (durations,
buffers, lead times, cut-offs, hold lifetimes, retention windows) happens in absolute time. Local time in a
business's zone exists only to *show* an instant or to *interpret a wall-clock rule* (opening hours, "the
day", quiet hours); the functions here are the only places that turn wall-clock parts into an instant.

Python adds a `timedelta` to an aware datetime on the wall clock, so `02:30+02:00 + 1 h` on the night
clocks go back is 03:30+01:00, two real hours later. `shift` never does that: it converts to UTC first.
A static rule (tests/shared/test_time_rules.py) keeps `datetime.combine(..., tzinfo=...)` and
`.replace(tzinfo=...)` out of every other module, so wall-clock parts reach an instant only through here.

Local times that do not exist (the skipped hour in spring) or exist twice (the repeated hour in autumn)
are refused with a message that names the gap or asks for the offset (`local_instant`); where a rule has
to cover a whole wall-clock range (opening hours, a local day) the lenient variants move a skipped time
forward to the transition and read a repeated one as its first occurrence (starts) or its second (ends).
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone as django_timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# Zones offered first in pickers: where the product's customers are, then the world's common ones.
COMMON_ZONES = (
    "Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Luxembourg", "Europe/Amsterdam",
    "Europe/Brussels", "Europe/Paris", "Europe/London", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw",
    "Europe/Prague", "Europe/Copenhagen", "Europe/Stockholm", "Europe/Athens", "Europe/Istanbul",
    "Europe/Lisbon", "Europe/Dublin", "Europe/Oslo", "Europe/Helsinki", "Europe/Budapest", "Atlantic/Canary",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Dubai",
    "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Australia/Adelaide", "UTC",
)  # fmt: skip


# --- Instants ---------------------------------------------------------------------------------------------


def now() -> datetime:
    """The current instant, in UTC (the one clock every module reads)."""
    return django_timezone.now()


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused (it names no instant)."""
    if moment.utcoffset() is None:
        raise ValueError("naive datetime: it names no instant; give an offset or use local_instant()")
    return moment.astimezone(UTC)


def shift(moment: datetime, delta: timedelta | None = None, /, **parts: float) -> datetime:
    """`moment` moved by `delta` (or `timedelta(**parts)`) in absolute time, returned in UTC."""
    return as_utc(moment) + (delta if delta is not None else timedelta(**parts))


def elapsed(since: datetime, until: datetime) -> timedelta:
    """The real time between two instants (aware datetimes subtract in absolute time already)."""
    return as_utc(until) - as_utc(since)


# --- Zones ------------------------------------------------------------------------------------------------


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; ValueError for an unknown one."""
    if name not in all_zone_names():
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed but not loadable
        raise ValueError(f"unknown time zone {name!r}") from exc


@functools.cache
def all_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's zoneinfo (or the tzdata package) knows."""
    return frozenset(available_timezones())


@functools.cache
def canonical_zone_names() -> frozenset[str]:
    """The zones of zone.tab: one per country and region, no old aliases (US/Eastern, Asia/Calcutta).

    Read from the system's tz database or, without one, from the tzdata package; empty if neither has it.
    """
    import zoneinfo
    from importlib import resources

    texts = []
    for directory in zoneinfo.TZPATH:
        path = os.path.join(directory, "zone.tab")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
            break
    if not texts:
        try:
            texts.append(resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text("utf-8"))
        except (ModuleNotFoundError, FileNotFoundError):
            return frozenset()
    return frozenset(
        line.split("\t")[2].strip() for line in texts[0].splitlines() if line and not line.startswith("#")
    )


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone for a picker: the common ones first, then all others alphabetically (no aliases)."""
    names = all_zone_names()
    common = [name for name in COMMON_ZONES if name in names]
    canonical = canonical_zone_names() or names
    rest = sorted(
        name
        for name in canonical
        if name in names and name not in common and "/" in name and not name.startswith("Etc/")
    )
    return [(name, name.replace("_", " ")) for name in (*common, *rest)]


def is_valid_zone(name: str) -> bool:
    return name in all_zone_names()


# --- Wall-clock time to instants --------------------------------------------------------------------------


class LocalTimeError(ValueError):
    """A wall-clock time that names no single instant in a zone; `message` says why, for a person."""

    def __init__(self, message: str, *, local: datetime, zone_name: str):
        super().__init__(message)
        self.message = message
        self.local = local
        self.zone_name = zone_name


class NonexistentLocalTime(LocalTimeError):
    """The wall clock skips this time (spring forward)."""


class AmbiguousLocalTime(LocalTimeError):
    """The wall clock shows this time twice (fall back); an offset decides which."""

    def __init__(self, message: str, *, local: datetime, zone_name: str, offsets: tuple[str, str]):
        super().__init__(message, local=local, zone_name=zone_name)
        self.offsets = offsets


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def _wall(moment: datetime, tz: tzinfo) -> datetime:
    # Through UTC: astimezone() to the zone a datetime already has returns it unchanged, unchecked.
    return moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def _transition(naive: datetime, tz: tzinfo) -> datetime:
    """The instant (UTC) next to a skipped or repeated wall time where the offset changes."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, second) - timedelta(hours=3), max(first, second) + timedelta(hours=3)
    old = low.astimezone(tz).utcoffset()
    # Offsets change on whole seconds: bisect to one second.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + timedelta(seconds=1)
        if middle.astimezone(tz).utcoffset() == old:
            low = middle
        else:
            high = middle
    return high


def _hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _offset_text(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def _long_date(day: date) -> str:
    # "28 March 2027" / "28. März 2027": day first in both languages, as people here write it.
    return date_format(day, "j. F Y" if (get_language() or "").startswith("de") else "j F Y")


def local_instant(naive: datetime, tz: tzinfo, *, offset: timedelta | None = None) -> datetime:
    """The instant (UTC) a wall-clock time in `tz` names, strictly.

    A time in a skipped hour raises NonexistentLocalTime; one in a repeated hour raises AmbiguousLocalTime
    unless `offset` (the UTC offset the caller means) picks one of the two.
    """
    naive = naive.replace(tzinfo=None)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    exists_first = _wall(first, tz) == naive
    exists_second = _wall(second, tz) == naive
    name = _zone_name(tz)
    if not (exists_first or exists_second):
        change = _transition(naive, tz)
        before = _wall(change - timedelta(seconds=1), tz) + timedelta(seconds=1)
        after = _wall(change, tz)
        raise NonexistentLocalTime(
            _(
                "%(time)s does not exist on %(date)s in %(zone)s; clocks jump from %(before)s to %(after)s. "
                "Please choose another time."
            )
            % {
                "time": _hm(naive),
                "date": _long_date(naive.date()),
                "zone": name,
                "before": _hm(before),
                "after": _hm(after),
            },
            local=naive,
            zone_name=name,
        )
    offsets = (first.utcoffset(), second.utcoffset())
    if offset is not None:
        for candidate in (first, second):
            if candidate.utcoffset() == offset:
                return candidate.astimezone(UTC)
    change = _transition(naive, tz)
    texts = (_offset_text(offsets[0]), _offset_text(offsets[1]))
    raise AmbiguousLocalTime(
        _(
            "%(time)s happens twice on %(date)s in %(zone)s: clocks go back from %(back_from)s to "
            "%(back_to)s. Please give the UTC offset: %(first)s for the first time, %(second)s for the "
            "second."
        )
        % {
            "time": _hm(naive),
            "date": _long_date(naive.date()),
            "zone": name,
            "back_from": _hm(_wall(change - timedelta(seconds=1), tz) + timedelta(seconds=1)),
            "back_to": _hm(_wall(change, tz)),
            "first": texts[0],
            "second": texts[1],
        },
        local=naive,
        zone_name=name,
        offsets=texts,
    )


def local_instant_lenient(naive: datetime, tz: tzinfo, *, is_end: bool = False) -> datetime:
    """The instant (UTC) of a wall-clock bound of a range (opening hours, a day), never refusing.

    A skipped time becomes the transition (the first instant the clock shows a later time); a repeated time
    is its first occurrence for a start and its second for an end, so the range covers every instant whose
    wall clock lies inside it.
    """
    naive = naive.replace(tzinfo=None)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if _wall(first, tz) != naive and _wall(second, tz) != naive:
        return _transition(naive, tz)
    return (second if is_end else first).astimezone(UTC)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant (UTC) of a local day (where midnight is skipped, the instant the day begins)."""
    return local_instant_lenient(datetime.combine(day, time(0)), tz)


def local_day_bounds(first_day: date, last_day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days `first_day` to `last_day`, both inclusive."""
    return local_midnight(first_day, tz), local_midnight(last_day + timedelta(days=1), tz)


def local_at(day: date, wall: time, tz: tzinfo) -> datetime:
    """The instant (UTC) of a wall-clock rule on a day ("08:00 on that day"), lenient like opening hours."""
    return local_instant_lenient(datetime.combine(day, wall), tz)


# --- Instants to wall-clock time --------------------------------------------------------------------------


def localtime(moment: datetime, tz: tzinfo) -> datetime:
    """The instant in `tz`, to show it or to read a wall-clock rule off it."""
    return as_utc(moment).astimezone(tz)


def local_date(moment: datetime, tz: tzinfo) -> date:
    return localtime(moment, tz).date()


def today(tz: tzinfo) -> date:
    """Today's date in a zone, from the one clock."""
    return local_date(now(), tz)


def is_ambiguous_wall(moment: datetime, tz: tzinfo) -> bool:
    """Whether the wall clock shows this instant's local time twice (the repeated hour)."""
    local = localtime(moment, tz).replace(tzinfo=None)
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset() and (
        _wall(local.replace(tzinfo=tz, fold=0), tz) == local
    )


def wall_time(moment: datetime, tz: tzinfo) -> str:
    """ "14:30", or "02:30 (UTC+01:00)" where the clock shows that time twice, so a person can tell which."""
    local = localtime(moment, tz)
    text = _hm(local)
    if is_ambiguous_wall(moment, tz):
        text += f" (UTC{_offset_text(local.utcoffset())})"
    return text


def next_weekday(weekday: int, tz: tzinfo, *, after: date | None = None) -> date:
    """The next local date with this weekday (0 = Monday) strictly after `after` (default: today)."""
    start = after or today(tz)
    return start + timedelta(days=(weekday - start.weekday() - 1) % 7 + 1)
