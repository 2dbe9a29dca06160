"""The availability engine: when can a service be booked, and with which resources.

`free_slots` is a pure function over the plain dataclasses below (no database, no Django), so it can be
tested exhaustively and called with whatever the selectors loaded.

Semantics
---------
* Days: every local date (in `tz`) from `start_date` to `end_date`, both inclusive.
* Weekly hours are half-open local wall-clock intervals [start, end) of one weekday. An end of 00:00
  means 24:00, the end of the day (`END_OF_DAY`): 23:00-00:00 is the last hour of the day and
  00:00-00:00 the whole day. An interval never runs past midnight: a night is two intervals, 22:00-24:00
  on one day and 00:00-06:00 on the next (the writes refuse 22:00-06:00; the engine ignores such an
  interval).
* Open time of a resource on a day: its weekly hours for that weekday (the business hours if its `hours`
  tuple is empty) intersected, in local wall-clock time, with the business hours; empty business hours
  mean the business is closed. Touching or overlapping intervals are merged first, so [09:00, 12:00) and
  [12:00, 13:00) form one open interval, and only real gaps are breaks.
* Local to absolute time: each open interval's local bounds are converted once with zoneinfo:
  - a start that falls into a skipped hour (spring forward) is moved forward to the transition, e.g.
    02:30 on 2026-03-29 in Europe/Berlin becomes 03:00 CEST; an end there is moved the same way;
  - an ambiguous start (the repeated hour in autumn) takes the first occurrence (fold=0) and an ambiguous
    end the second (fold=1), so the interval covers every instant whose wall clock lies inside it
    (01:00-02:30 on 2026-10-25 runs from 01:00 CEST to 02:30 CET, 2.5 h; the first pass of 02:30-02:59
    comes with it). One exception: an end exactly at the start of the repeated hour (02:00) is its first
    occurrence, since no later wall time is earlier; 00:00-02:00 stays 2 h.
  Put differently, an interval runs from the first instant whose wall clock reaches its start to the
  first instant from which the wall clock never again shows a time before its end.
  Hence 01:00-05:00 on the spring day lasts 3 h and 00:00-06:00 on the autumn day 7 h. Intervals of a day
  that overlap after conversion (only possible around the repeated hour) are merged.
  - 24:00 of a day is 00:00 of the next day, converted as an end by the same rules: where that midnight
    is skipped it is the transition (America/Santiago, 2027-09-04: 22:00-24:00 ends at 01:00-03:00 on
    the 5th, 2 h), where the clock goes back at midnight it is the only 00:00 after the repeated hour
    (Asia/Beirut, 2027-10-30: 22:00-24:00 lasts 3 h), and where midnight itself repeats it is the first
    00:00 (America/Havana, 2027-11-07). 00:00 of the next day, as a start, is the same instant in all
    three cases, so 22:00-24:00 and 00:00-06:00 of the next day always touch.
* Runs: open intervals that touch or overlap in absolute time form one run; that only joins intervals
  of different days when one ends at 24:00 and the next day's starts at 00:00.
* Candidates: from the start of each (merged) open interval of a staff member on a queried day, every
  `step` in absolute time, up to the start of the next day's interval of the same run (or the run's
  end). The grid is anchored before closures are taken away, so a closure ending at 10:07 does not shift
  the slots to :07/:22; it restarts at 00:00 of a day even when the run began the evening before, so the
  slots of a day never depend on which other days are queried. Walking absolute time means no start in a
  skipped hour and no instant twice.
* A candidate t is free for a resource when
  - the appointment proper [t, t + duration) lies inside one open run of that resource (with 22:00-24:00
    and 00:00-06:00 of the next day, 23:30-00:30 can be booked), and
  - the held interval [t - buffer_before, t + duration + buffer_after) overlaps no closure (business or
    the resource's own) and no `Busy` of the resource, except a joinable group session (below).
  Buffers may reach outside opening hours, but not into closures or other appointments.
* Group services (capacity > 1): a `Busy` with the same service, `session_start == t` and exactly the held
  interval of t is the session at t. Participants of all such entries of a resource are added up; while
  they are fewer than `capacity` the session does not block t and that resource offers
  `capacity - participants` seats. A full session, or one of another service or shape, blocks as usual.
  `Slot.seats_left` is the largest number of seats a single listed staff member offers at t (so a party of
  that size can still book); it is 1 for capacity 1.
* Booking window: now + min_notice <= t < now + horizon.
* Resources: without `resource_id` any staff member will do (and, if `requires_room`, any room as well);
  a slot exists when at least one of each needed kind is free, and `Slot.resources` lists all free ones,
  sorted. With `resource_id` only that staff member (or, if it is a room, only that room) is considered
  for its role; an unknown id, or a room for a service without rooms, gives no slots.
* Result: sorted by start, one slot per start instant, `start`/`end` aware in `tz` (made when first read;
  the answers write `start_us`/`end_us` as text without them, see `instant_text`).

Speed: everything inside runs on integer microseconds since the epoch (wall-clock times of weekly hours
on microseconds since local midnight, so 24:00 is a plain number); the selectors hand busy time over in
that unit (`ResourceCalendar.busy_spans`), so no datetime is made for it. Per resource, busy periods and
closures are merged and sorted once per query; a service's free starts are its open ranges clipped to the
gaps between them, one linear pass per held piece, so the work grows with the number of intervals and
slots, not with candidates times busy periods. A visit first narrows its starts to where every later
service has someone free, and only then walks the first service's grid. Time zone conversions happen only
for interval bounds and output. Days after `end_date` are converted only when some interval ends at 24:00,
and only as many as the longest appointment can reach into.
"""

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

STAFF = "staff"
ROOM = "room"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_US = 86_400 * 1_000_000
_ONE_DAY = timedelta(days=1)
_FAR = 1 << 62  # beyond any instant, in microseconds
_SHORTEST_DAY = timedelta(hours=23)  # a local day across a DST change: how far a run can reach per day

# As the end of weekly hours, 00:00 is 24:00: the end of the day (Python's `time` cannot say 24:00).
END_OF_DAY = time(0)


@dataclass(frozen=True)
class ServiceRules:
    service_id: int
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)  # earliest start = now + min_notice
    horizon: timedelta = timedelta(days=60)  # latest start < now + horizon
    step: timedelta = timedelta(minutes=15)  # candidate grid
    capacity: int = 1  # >1: group sessions, that many customers per session
    requires_room: bool = False  # needs one staff member AND one room at the same time
    # Processing time: from `processing_after` into the appointment, for `processing`, the staff member is
    # free (the room, if any, is not). Only counted when it lies strictly inside the duration.
    processing_after: timedelta = timedelta(0)
    processing: timedelta = timedelta(0)

    def staff_pieces(self) -> tuple[tuple[timedelta, timedelta], ...]:
        """What a staff member holds, relative to the start: the held time, or both sides of the gap."""
        whole = (-self.buffer_before, self.duration + self.buffer_after)
        if self.processing > timedelta(0) and timedelta(0) < self.processing_after:
            resume = self.processing_after + self.processing
            if resume < self.duration:
                return ((whole[0], self.processing_after), (resume, whole[1]))
        return (whole,)


@dataclass(frozen=True)
class WeeklyInterval:
    """Local wall-clock time in the business's time zone; a day may have several (breaks)."""

    weekday: int  # 0 = Monday
    start: time
    end: time  # end > start, or END_OF_DAY (00:00) for 24:00


def is_end_of_day(end: time) -> bool:
    """Whether an interval's end is 24:00 (stored as 00:00)."""
    return end == END_OF_DAY


def day_microseconds(moment: time, *, end: bool = False) -> int:
    """Microseconds since local midnight of a weekly-hours bound; as an end, 00:00 is 24:00 (one day)."""
    wall = ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond
    return _DAY_US if end and not wall else wall


def day_minutes(moment: time, *, end: bool = False) -> int:
    """Minutes since local midnight of a weekly-hours bound; as an end, 00:00 is 24:00 (1440)."""
    return day_microseconds(moment, end=end) // 60_000_000


def wall_text(moment: time, *, end: bool = False) -> str:
    """ "09:30" for people; an end of 00:00 reads "24:00"."""
    return "24:00" if end and is_end_of_day(moment) else f"{moment:%H:%M}"


def interval_text(start: time, end: time) -> str:
    """ "22:00–24:00": an interval of weekly hours as people read it."""
    return f"{wall_text(start)}–{wall_text(end, end=True)}"


def weekly_open(
    hours: Sequence[WeeklyInterval], business_hours: Sequence[WeeklyInterval]
) -> list[list[tuple[time, time]]]:
    """Per weekday (0 = Monday) the local intervals `free_slots` counts as open for these hours.

    Empty `hours` follow the business hours; otherwise they are cut to them. Touching intervals are merged;
    an end of 24:00 comes back as END_OF_DAY.
    """
    business = _by_weekday(business_hours)
    own = _by_weekday(hours) if hours else business
    return [
        [(_wall_time(start), _wall_time(end)) for start, end in _intersect(own[day], business[day])]
        for day in range(7)
    ]


@dataclass(frozen=True)
class Interval:
    """Absolute, timezone-aware, half-open [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Busy:
    """An existing allocation of a resource, buffers included."""

    start: datetime
    end: datetime
    service_id: int | None = None  # the service of the appointment holding it
    session_start: datetime | None = None  # for group sessions: the appointment's own start
    participants: int = 1


# A busy period in epoch microseconds: (start, end, service_id, session_start or None, participants).
BusyRow = tuple[int, int, int | None, int | None, int]


@dataclass(frozen=True)
class ResourceCalendar:
    resource_id: int
    kind: str  # "staff" or "room"
    hours: tuple[WeeklyInterval, ...]  # empty tuple = follows business opening hours
    closures: tuple[Interval, ...] = ()
    busy: tuple[Busy, ...] = ()
    # More busy time in epoch microseconds, counted as well as `busy`: how the selectors hand it over, since
    # making thousands of datetimes only to take them apart again costs more than the engine's whole work.
    busy_spans: tuple[tuple[int, int], ...] = ()  # (start, end) of busy time that blocks, whatever it is
    busy_rows: tuple[BusyRow, ...] = ()  # with service and session, for group sessions


@dataclass(frozen=True)
class Slot:
    start_us: int  # epoch microseconds, as the engine computes
    end_us: int
    tz: ZoneInfo = field(repr=False)  # the business's zone, which `start` and `end` are in
    resources: tuple[int, ...]  # free staff (plus free rooms if required), sorted
    seats_left: int = 1  # for group services: free places in the session

    # Made when first read: a month's answer is written from the integers (`instant_text`), and making two
    # datetimes per slot cost as much as the engine's grid walk.
    @functools.cached_property
    def start(self) -> datetime:
        """Aware, in the business's time zone (fold set right in a repeated hour)."""
        return _in_zone(self.start_us, self.tz)

    @functools.cached_property
    def end(self) -> datetime:
        return _in_zone(self.end_us, self.tz)

    def as_json(self, iso: Callable[[datetime], str] = datetime.isoformat) -> dict:
        """The slot as every API answers it: ISO-8601 times with the business's offset (`iso`: see
        `isoformat_cached`)."""
        return {"start": iso(self.start), "end": iso(self.end), "resources": list(self.resources)}


@dataclass(frozen=True)
class VisitPart:
    """One service of a visit: its rules, the resources that offer it, optionally the one asked for."""

    rules: ServiceRules
    resources: Sequence[ResourceCalendar]
    resource_id: int | None = None


@dataclass(frozen=True)
class VisitSlot:
    """A start of a whole visit; `parts` are the services back to back, each with its free resources."""

    parts: tuple[Slot, ...]

    @property
    def start(self) -> datetime:
        return self.parts[0].start

    @property
    def end(self) -> datetime:
        return self.parts[-1].end

    def as_json(self, iso: Callable[[datetime], str] = datetime.isoformat) -> dict:
        parts = [part.as_json(iso) for part in self.parts]
        return {"start": parts[0]["start"], "end": parts[-1]["end"], "parts": parts}


def isoformat_cached() -> Callable[[datetime], str]:
    """`datetime.isoformat` remembering its answers: a list of slots names most instants several times
    (a slot's end is a later slot's start; a visit's parts meet), and formatting is what answering costs."""
    known: dict[tuple[datetime, int], str] = {}

    def iso(moment: datetime) -> str:
        # Keyed with the fold: in one zone 02:30 before and after the clocks go back compare equal.
        key = (moment, moment.fold)
        text = known.get(key)
        if text is None:
            text = known[key] = moment.isoformat()
        return text

    return iso


def instant_text(tz: ZoneInfo) -> Callable[[int], str]:
    """ISO-8601 text of epoch microseconds in `tz`, exactly as `isoformat()` writes the aware datetime, made
    from integers: a month of slots names a thousand instants, and `isoformat()` costs 1.6 µs each.

    The offset is looked up once per UTC day: with the same offset at its first and its last microsecond,
    a day has it throughout (zones do not change twice a day, as `_Clock` relies on too); on a day with a
    change each instant is formatted by datetime itself."""
    offsets: dict[int, tuple[int, str] | None] = {}
    dates: dict[int, str] = {}
    clocks: dict[int, str] = {}
    known: dict[int, str] = {}

    def text(moment: int) -> str:
        found = known.get(moment)
        if found is not None:
            return found
        utc_day = moment // _DAY_US
        if utc_day in offsets:
            offset = offsets[utc_day]
        else:
            first = _in_zone(utc_day * _DAY_US, tz)
            same = first.utcoffset() == _in_zone((utc_day + 1) * _DAY_US - 1, tz).utcoffset()
            # The suffix as isoformat writes it ("+01:00", "+05:45", "+00:53:28").
            offset = offsets[utc_day] = (first.utcoffset() // _US, first.isoformat()[19:]) if same else None
        if offset is None:
            found = _in_zone(moment, tz).isoformat()
        else:
            day, wall = divmod(moment + offset[0], _DAY_US)
            day_text = dates.get(day)
            if day_text is None:
                day_text = dates[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat() + "T"
            clock = clocks.get(wall)
            if clock is None:
                seconds, micro = divmod(wall, 1_000_000)
                clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
                clock = clocks[wall] = f"{clock}.{micro:06d}" if micro else clock
            found = day_text + clock + offset[1]
        known[moment] = found
        return found

    return text


def visit_offsets(parts: Sequence[ServiceRules]) -> list[timedelta]:
    """Each service's start relative to the visit's: back to back in held time (the previous one's buffer
    after, then this one's buffer before), as the write path lays a visit out."""
    offsets = [timedelta(0)]
    for previous, rules in pairwise(parts):
        offsets.append(offsets[-1] + previous.duration + previous.buffer_after + rules.buffer_before)
    return offsets


def free_slots(
    *,
    rules: ServiceRules,
    resources: Sequence[ResourceCalendar],
    business_hours: Sequence[WeeklyInterval],
    closures: Sequence[Interval],
    now: datetime,
    tz: ZoneInfo,
    start_date: date,
    end_date: date,
    resource_id: int | None = None,
) -> list[Slot]:
    """Bookable slots of `rules` between two local dates (inclusive); see the module docstring."""
    if rules.duration <= timedelta(0) or rules.step <= timedelta(0):
        raise ValueError("duration and step must be positive")
    if rules.capacity < 1:
        raise ValueError("capacity must be at least 1")
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    for calendar in resources:
        if calendar.kind not in (STAFF, ROOM):
            raise ValueError(f"unknown resource kind {calendar.kind!r}")

    staff = sorted((c for c in resources if c.kind == STAFF), key=lambda c: c.resource_id)
    rooms = (
        sorted((c for c in resources if c.kind == ROOM), key=lambda c: c.resource_id)
        if rules.requires_room
        else []
    )
    if resource_id is not None:
        if any(c.resource_id == resource_id for c in staff):
            staff = [c for c in staff if c.resource_id == resource_id]
        elif any(c.resource_id == resource_id for c in rooms):
            rooms = [c for c in rooms if c.resource_id == resource_id]
        else:
            return []
    if not staff or (rules.requires_room and not rooms) or end_date < start_date:
        return []

    duration = rules.duration // _US
    step = rules.step // _US
    now_us = _to_us(now)
    earliest = now_us + rules.min_notice // _US
    latest = now_us + rules.horizon // _US - 1  # inclusive: t < now + horizon
    if earliest > latest:
        return []
    context = _Context(business_hours, closures, tz, start_date, end_date)

    def allowed(calendar: ResourceCalendar) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
        return context.allowed(rules, calendar, earliest, latest)

    starts: dict[int, list[int]] = {}
    seats_by_staff: dict[int, dict[int, int]] = {}
    for calendar in staff:
        ranges, seats = allowed(calendar)
        seats_by_staff[calendar.resource_id] = seats
        rid = calendar.resource_id
        for a, b, anchor in ranges:
            first = anchor - ((anchor - a) // step) * step  # first grid point >= a
            for t in range(first, b + 1, step):
                free = starts.get(t)
                if free is None:
                    starts[t] = [rid]
                else:
                    free.append(rid)

    times = sorted(starts)
    if rooms:
        # Free rooms per candidate: each free range of a room marks the candidates inside it.
        free_rooms: list[list[int]] = [[] for _ in times]
        for calendar in rooms:
            for a, b, _anchor in allowed(calendar)[0]:
                for i in range(bisect_left(times, a), bisect_right(times, b)):
                    free_rooms[i].append(calendar.resource_id)
    capacity = rules.capacity
    result = []
    for i, t in enumerate(times):
        free = starts[t]
        if rooms:
            if not free_rooms[i]:
                continue
            ids = tuple(sorted(free + free_rooms[i]))
        else:
            ids = tuple(free)
        seats_left = max(seats_by_staff[rid].get(t, capacity) for rid in free) if capacity > 1 else 1
        result.append(Slot(t, t + duration, tz, ids, seats_left))
    return result


def free_visit_slots(
    *,
    parts: Sequence[VisitPart],
    business_hours: Sequence[WeeklyInterval],
    closures: Sequence[Interval],
    now: datetime,
    tz: ZoneInfo,
    start_date: date,
    end_date: date,
) -> list[VisitSlot]:
    """Starts of a visit (several services back to back, see `visit_offsets`) between two local dates.

    The visit's start lies on the first service's grid, on the days asked for; every service must be free
    by the rules of `free_slots` at its own start (its own notice, horizon, hours, buffers and processing
    gap), with any of its staff (and rooms) or the one asked for. The services of one visit never hold the
    same time, so one staff member may do all of them. Group services cannot be part of a visit.
    """
    if not parts:
        raise ValueError("a visit has at least one service")
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    for part in parts:
        if part.rules.duration <= timedelta(0) or part.rules.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if part.rules.capacity != 1:
            raise ValueError("group services cannot be part of a visit")
        for calendar in part.resources:
            if calendar.kind not in (STAFF, ROOM):
                raise ValueError(f"unknown resource kind {calendar.kind!r}")
    if end_date < start_date:
        return []
    offsets = [offset // _US for offset in visit_offsets([part.rules for part in parts])]
    now_us = _to_us(now)
    contexts: dict[int, _Context] = {}
    timelines: dict = {}  # the busy time of a resource, worked out once for all the services
    # Per service: the free ranges of its staff and of its rooms, by resource, in the service's own starts.
    free: list[tuple[dict[int, list[tuple[int, int, int]]], dict[int, list[tuple[int, int, int]]]]] = []
    for part, offset in zip(parts, offsets, strict=True):
        rules = part.rules
        staff, rooms = _roles(part.resources, rules, part.resource_id)
        if staff is None:
            return []
        # A later service may start on a day after the last one asked for.
        extra = -(-offset // (_SHORTEST_DAY // _US)) if offset else 0
        context = contexts.get(extra)
        if context is None:
            context = contexts[extra] = _Context(
                business_hours, closures, tz, start_date, end_date + timedelta(days=extra), timelines
            )
        earliest = now_us + rules.min_notice // _US
        latest = now_us + rules.horizon // _US - 1
        if earliest > latest:
            return []
        free.append(
            tuple(
                {c.resource_id: context.allowed(rules, c, earliest, latest)[0] for c in kind}
                for kind in (staff, rooms)
            )
        )

    # Where the visit can start as far as the later services (and the first one's rooms) go: for each,
    # where any of its staff and any of its rooms is free, moved back by its offset; all of them at once.
    possible: list[tuple[int, int]] | None = None  # half-open
    for index, by_kinds in enumerate(free):
        for by_kind in by_kinds[1:] if index == 0 else by_kinds:
            if not by_kind:
                continue  # a service without rooms
            shift = offsets[index]
            gap_starts, gap_ends = _gaps(
                [(a - shift, b - shift + 1) for ranges in by_kind.values() for a, b, _ in ranges]
            )
            union = list(zip(gap_ends[:-1], gap_starts[1:], strict=True))  # between the gaps
            possible = union if possible is None else _intersect(possible, union)
    # The first service's grid, from each staff member's own open intervals, only where all that holds.
    step = parts[0].rules.step // _US
    starts: dict[int, list[int]] = {}
    if possible is not None:
        possible_starts = [a for a, _b in possible]
        possible_ends = [b for _a, b in possible]
    for rid, ranges in free[0][0].items():
        if possible is not None:
            ranges = _fit(ranges, possible_starts, possible_ends, 0, 1)  # t itself in [a, b)
        for a, b, anchor in ranges:
            first = anchor - ((anchor - a) // step) * step  # first grid point >= a
            for t in range(first, b + 1, step):
                starts.setdefault(t, []).append(rid)

    lookups = [
        [
            [(rid, [a for a, _b, _anchor in ranges], ranges) for rid, ranges in by_kind.items()]
            for by_kind in kinds
        ]
        for kinds in free
    ]

    def free_at(lookup, moment: int) -> list[int]:
        ids = []
        for rid, firsts, ranges in lookup:
            i = bisect_right(firsts, moment) - 1
            if i >= 0 and ranges[i][1] >= moment:
                ids.append(rid)
        return ids

    durations = [part.rules.duration // _US for part in parts]
    result = []
    for t in sorted(starts):
        pieces = []
        for index, ((staff_lookup, room_lookup), offset) in enumerate(zip(lookups, offsets, strict=True)):
            begin = t + offset
            ids = starts[t] if index == 0 else free_at(staff_lookup, begin)
            if room_lookup:
                rooms_free = free_at(room_lookup, begin)
                ids = sorted(ids + rooms_free) if ids and rooms_free else []
            if not ids:
                break
            pieces.append(Slot(begin, begin + durations[index], tz, tuple(ids)))
        else:
            result.append(VisitSlot(tuple(pieces)))
    return result


def _roles(resources: Sequence[ResourceCalendar], rules: ServiceRules, resource_id: int | None):
    """(staff, rooms) a service considers, by id; (None, None) when the one asked for does not offer it."""
    staff = sorted((c for c in resources if c.kind == STAFF), key=lambda c: c.resource_id)
    rooms = (
        sorted((c for c in resources if c.kind == ROOM), key=lambda c: c.resource_id)
        if rules.requires_room
        else []
    )
    if resource_id is not None:
        if any(c.resource_id == resource_id for c in staff):
            staff = [c for c in staff if c.resource_id == resource_id]
        elif any(c.resource_id == resource_id for c in rooms):
            rooms = [c for c in rooms if c.resource_id == resource_id]
        else:
            return None, None
    if not staff or (rules.requires_room and not rooms):
        return None, None
    return staff, rooms


class _Context:
    """What one query shares between its services and resources: days, opening hours, the zone's clock."""

    def __init__(self, business_hours, closures, tz, start_date, end_date, timelines=None):
        self.days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days + 1)]
        self.start_date, self.end_date = start_date, end_date
        self.business_hours = tuple(business_hours)
        self.tz = tz
        self.open_cache: dict[tuple, list[tuple[int, int, int]]] = {}
        self.business_blocks = [(_to_us(c.start), _to_us(c.end)) for c in closures]
        self.timelines: dict[tuple[int, int | None], tuple] = {} if timelines is None else timelines

    def timeline(self, calendar: ResourceCalendar, rules: ServiceRules) -> tuple:
        """(gap starts, gap ends, sessions) of a resource, worked out once per query (a visit's services
        share it): the free gaps [start, end) between its busy periods and closures that block, merged where
        they touch or overlap (the starts they forbid are the same: a held piece is at least a microsecond
        long), sorted, the first and last reaching far; `sessions` the rows that may be open sessions of a
        group service (only for capacity > 1)."""
        sessions_of = rules.service_id if rules.capacity > 1 else None
        key = (id(calendar), sessions_of)  # the calendars outlive the query
        found = self.timelines.get(key)
        if found is None:
            rows = [
                *(
                    (_to_us(b.start), _to_us(b.end), b.service_id,
                     None if b.session_start is None else _to_us(b.session_start), b.participants)
                    for b in calendar.busy
                ),
                *calendar.busy_rows,
            ]  # fmt: skip
            sessions = []
            if sessions_of is not None:
                sessions = [row for row in rows if row[2] == sessions_of and row[3] is not None]
                rows = [row for row in rows if not (row[2] == sessions_of and row[3] is not None)]
            # A closure of the resource blocks as busy time does (the staff gap is free of it too).
            closed = [(_to_us(c.start), _to_us(c.end)) for c in calendar.closures]
            found = self.timelines[key] = (
                *_gaps([*calendar.busy_spans, *((row[0], row[1]) for row in rows), *closed]),
                sessions,
            )
        return found

    def opening(self, hours: tuple[WeeklyInterval, ...], duration: timedelta) -> list[tuple[int, int, int]]:
        # An appointment starting on the last day can run on through days open from 00:00 to 24:00.
        reach = duration // _SHORTEST_DAY + 2
        key = (hours, reach)  # staff sharing their hours share the work
        opening = self.open_cache.get(key)
        if opening is None:
            opening = self.open_cache[key] = _opening(
                hours, self.business_hours, self.tz, self.start_date, self.end_date, reach
            )
        return opening

    def allowed(
        self, rules: ServiceRules, calendar: ResourceCalendar, earliest: int, latest: int
    ) -> tuple[list[tuple[int, int, int]], dict[int, int]]:
        """Ranges [a, b] of free starts of one resource (with their grid anchor) and its open seats."""
        duration = rules.duration // _US
        before = rules.buffer_before // _US
        after = rules.buffer_after // _US
        base = []
        for start, limit, end in self.opening(tuple(calendar.hours), rules.duration):
            a = max(start, earliest)
            b = min(limit - 1, end - duration, latest)
            if a <= b:
                base.append((a, b, start))
        if not base:
            return [], {}
        # Starts a blocker [s, e) forbids for a held piece [t + x, t + y): t + x < e and t + y > s.
        lead = duration + after
        whole = ((-before, lead),)
        pieces = (
            tuple((x // _US, y // _US) for x, y in rules.staff_pieces()) if calendar.kind == STAFF else whole
        )
        low, high = base[0][0] - before, base[-1][1] + lead  # blockers outside cannot matter
        gap_starts, gap_ends, candidates = self.timeline(calendar, rules)
        # A held piece [t + x, t + y) fits the gap [lo, hi) when lo - x <= t <= hi - y: the open ranges are
        # cut to the gaps of each piece, found by bisection (a step per gap that overlaps, not per gap).
        free = base
        for x, y in pieces:
            free = _fit(free, gap_starts, gap_ends, x, y)
        forbidden = []
        # The business closed: the customer is there all the time, staff gap or not.
        for s, e in self.business_blocks:
            if s < e and s < high and e > low:
                forbidden.append((s - lead + 1, e + before - 1))
        sessions: dict[int, int] = {}
        for s, e, _service, t, participants in candidates:
            if s >= high or e <= low or s >= e:
                continue
            if s == t - before and e == t + lead:
                sessions[t] = sessions.get(t, 0) + participants
                continue
            for x, y in pieces:
                forbidden.append((s - y + 1, e - x - 1))
        seats = {}
        for t, participants in sessions.items():
            s, e = t - before, t + lead
            if participants < rules.capacity:
                # The open session blocks everything around it but its own start.
                forbidden.append((s - lead + 1, t - 1))
                forbidden.append((t + 1, e + before - 1))
                seats[t] = rules.capacity - participants
            else:
                forbidden.append((s - lead + 1, e + before - 1))
        return (_subtract(free, forbidden) if forbidden else free), seats


def _in_zone(moment: int, tz: ZoneInfo) -> datetime:
    """Aware datetime in `tz` of epoch microseconds (fold set right in a repeated hour)."""
    seconds, micro = divmod(moment, 1_000_000)
    local = datetime.fromtimestamp(seconds, tz)
    # Offsets change on whole seconds, so the fraction never crosses a transition.
    return local.replace(microsecond=micro) if micro else local


def _to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, unlike timestamp())."""
    return (moment - _EPOCH) // _US


def _merge(intervals: list[tuple]) -> list[tuple]:
    """Sorted union of half-open intervals; touching ones become one."""
    merged: list[list] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _gaps(blocks: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """(starts, ends) of the free gaps around half-open blocks, merged where they touch or overlap: the
    first gap begins, the last ends far away. `_merge` and the split into two lists at once."""
    starts, ends = [-_FAR], []
    end = None
    for lo, hi in sorted(blocks):
        if lo >= hi:
            continue
        if end is not None and lo <= end:
            if hi > end:
                end = hi
        else:
            if end is not None:
                starts.append(end)
            ends.append(lo)
            end = hi
    if end is not None:
        starts.append(end)
    ends.append(_FAR)
    return starts, ends


def _wall_time(wall: int) -> time:
    """The `time` of microseconds since local midnight; 24:00 becomes END_OF_DAY (00:00)."""
    seconds, micro = divmod(wall % _DAY_US, 1_000_000)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def _by_weekday(hours: Sequence[WeeklyInterval]) -> list[list[tuple[int, int]]]:
    """Per weekday, the merged intervals in microseconds since local midnight (24:00 = one day)."""
    return [
        _merge(
            [
                (day_microseconds(h.start), day_microseconds(h.end, end=True))
                for h in hours
                if h.weekday == weekday
            ]
        )
        for weekday in range(7)
    ]


def _intersect(left: list[tuple], right: list[tuple]) -> list[tuple]:
    """Intersection of two sorted lists of disjoint half-open intervals."""
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


@functools.lru_cache(maxsize=256)
def _opening(
    hours: tuple[WeeklyInterval, ...],
    business_hours: tuple[WeeklyInterval, ...],
    tz: ZoneInfo,
    start_date: date,
    end_date: date,
    reach: int,
) -> list[tuple[int, int, int]]:
    """`_open_intervals` of the days asked for (and `reach` days after), kept for the process: it depends on
    nothing but these, and the same questions come again and again (a page's days, a team's shared hours).
    Callers never change the list."""
    days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days + 1)]
    following = [end_date + timedelta(days=i + 1) for i in range(reach)]
    return _open_intervals(hours, _by_weekday(business_hours), days, following, _Clock(tz))


def _open_intervals(
    hours: tuple[WeeklyInterval, ...],
    business: list[list[tuple[int, int]]],
    days: list[date],
    following: list[date],
    clock: "_Clock",
) -> list[tuple[int, int, int]]:
    """Open time of one set of weekly hours: (start, limit, end) per open interval of a queried day.

    `start` is the interval's absolute start (the anchor of its grid), appointments starting in it start
    before `limit` (the next day's interval of the same run, or the run's end) and end by `end`, the end
    of its run. Sorted; the [start, limit) do not overlap.
    """
    own = _by_weekday(hours) if hours else business
    weekly = [_intersect(own[weekday], business[weekday]) for weekday in range(7)]
    pieces: list[tuple[int, int, bool]] = []  # (start, end, on a queried day)
    for queried, span in ((True, days), (False, following)):
        if not queried and not any(end == _DAY_US for day in weekly for _start, end in day):
            break  # no day closes at 24:00: no run reaches into the following days
        for day in span:
            converted = [
                (clock.to_us(day, start, is_end=False), clock.to_us(day, end, is_end=True))
                for start, end in weekly[day.weekday()]
            ]
            pieces.extend((start, end, queried) for start, end in _merge(converted))
    pieces.sort()
    out = []
    i, n = 0, len(pieces)
    while i < n:
        last, end = i, pieces[i][1]
        while last + 1 < n and pieces[last + 1][0] <= end:
            last += 1
            end = max(end, pieces[last][1])
        for k in range(i, last + 1):
            if pieces[k][2]:
                out.append((pieces[k][0], pieces[k + 1][0] if k < last else end, end))
        i = last + 1
    return out


class _Clock:
    """Local wall-clock time of one zone to epoch microseconds, cheap on days without a transition."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.day_offsets: dict[date, int | None] = {}
        self.hard: dict[tuple[date, int, bool], int] = {}

    def to_us(self, day: date, wall: int, *, is_end: bool) -> int:
        """Epoch microseconds of `wall` (microseconds since local midnight, up to 24:00) on `day`."""
        if wall == _DAY_US:
            # 24:00 is the next day's 00:00, converted by the same rules (as an end).
            day, wall = day + _ONE_DAY, 0
        try:
            offset = self.day_offsets[day]
        except KeyError:
            # Same offset at this midnight and the next: no transition in between (zones do not change
            # twice a day), so every wall time of the day maps with plain arithmetic.
            first = datetime.combine(day, time(0), self.tz).utcoffset()
            following = datetime.combine(day + timedelta(days=1), time(0), self.tz).utcoffset()
            offset = self.day_offsets[day] = first // _US if first == following else None
        if offset is not None:
            return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_US + wall - offset
        key = (day, wall, is_end)
        moment = self.hard.get(key)
        if moment is None:
            moment = self.hard[key] = _local_to_us(day, _wall_time(wall), self.tz, is_end=is_end)
        return moment


def _local_to_us(day: date, wall: time, tz: ZoneInfo, *, is_end: bool) -> int:
    """Absolute instant of a local wall-clock time: fold=0 for starts, fold=1 for ends, gaps forward."""
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    moment = _to_us(naive.replace(tzinfo=tz, fold=1 if is_end else 0))
    if _wall(moment, tz) == naive:
        if is_end and _wall(moment - 1, tz) >= naive:
            # An end exactly where the repeated hour begins (02:00): the second pass shows no earlier
            # wall time, so the clock reaches the end at its first occurrence.
            return _to_us(naive.replace(tzinfo=tz, fold=0))
        return moment
    # Skipped wall time: fold=1 reads it with the new offset (earlier instant, before the transition),
    # fold=0 with the old one (later instant, after it). Search the transition in between.
    other = _to_us(naive.replace(tzinfo=tz, fold=0 if is_end else 1))
    low, high = min(moment, other), max(moment, other)
    old_offset = _offset(low, tz)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, tz) == old_offset:
            low = middle
        else:
            high = middle
    return high


def _wall(moment: int, tz: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=moment)).astimezone(tz).replace(tzinfo=None)


def _offset(moment: int, tz: ZoneInfo) -> timedelta | None:
    return (_EPOCH + timedelta(microseconds=moment)).astimezone(tz).utcoffset()


def _subtract(
    base: list[tuple[int, int, int]], forbidden: list[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Closed ranges (a, b, anchor) of `base` minus the closed ranges in `forbidden`."""
    forbidden.sort()
    # Merged, the forbidden ranges are ordered by start and end alike, so one pointer serves all of `base`.
    merged: list[list[int]] = []
    for lo, hi in forbidden:
        if lo > hi:
            continue
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    out = []
    j = 0
    n = len(merged)
    for a, b, anchor in base:
        while j < n and merged[j][1] < a:
            j += 1
        cursor = a
        k = j
        while k < n and merged[k][0] <= b:
            lo, hi = merged[k]
            if lo > cursor:
                out.append((cursor, lo - 1, anchor))
            cursor = hi + 1
            k += 1
        if cursor <= b:
            out.append((cursor, b, anchor))
    return out


def _fit(
    ranges: list[tuple[int, int, int]], lows: list[int], highs: list[int], x: int, y: int
) -> list[tuple[int, int, int]]:
    """Closed ranges (a, b, anchor) of starts t cut to where [t + x, t + y) lies in one of the half-open
    windows [lows[k], highs[k]) (sorted, disjoint): lows[k] - x <= t <= highs[k] - y."""
    out = []
    append, first_ending = out.append, bisect_left  # locals: this loop is the engine's hottest
    n = len(highs)
    for a, b, anchor in ranges:
        k = first_ending(highs, a + y)  # the first window that ends late enough
        limit = b + x  # windows that start later hold none of these starts
        while k < n:
            lo = lows[k]
            if lo > limit:
                break
            lo -= x
            hi = highs[k] - y
            if lo <= hi:  # the window is long enough for the piece
                append((a if a > lo else lo, b if b < hi else hi, anchor))
            k += 1
    return out
