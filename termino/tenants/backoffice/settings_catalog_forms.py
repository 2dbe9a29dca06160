"""Forms of the catalogue settings: services, staff and rooms, weekly hours, closures, public holidays.

They validate only; the writes are the service functions in `scheduling.services`.
"""

import itertools
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.dates import WEEKDAYS
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from termino.shared import timeutils
from termino.shared.money import PriceField
from termino.tenants.scheduling.availability import (
    END_OF_DAY,
    WeeklyInterval,
    day_microseconds,
    interval_text,
    is_end_of_day,
)
from termino.tenants.scheduling.models import (
    ONLINE_SERIES_MAX_INTERVAL_WEEKS,
    SERIES_MAX_OCCURRENCES,
    Resource,
    ResourceKind,
    Service,
)
from termino.tenants.scheduling.services import (
    GERMAN_STATES,
    online_series_problem,
    processing_problem,
    weekly_interval_problem,
)

# Sensible bounds, so a typo (6000 instead of 60) is caught here and not by a confused customer.
SERVICE_LIMITS = {
    "duration_minutes": (1, 24 * 60),
    "buffer_before_minutes": (0, 8 * 60),
    "buffer_after_minutes": (0, 8 * 60),
    "min_notice_minutes": (0, 90 * 24 * 60),
    "horizon_days": (1, 730),
    "slot_step_minutes": (1, 12 * 60),
    "capacity": (1, 500),
    "processing_after_minutes": (0, 8 * 60),
    "processing_minutes": (0, 8 * 60),
    "online_series_count": (0, SERIES_MAX_OCCURRENCES),
    "online_series_interval_weeks": (1, ONLINE_SERIES_MAX_INTERVAL_WEEKS),
}

STATE_NAMES = {
    "BW": _("Baden-Württemberg"),
    "BY": _("Bavaria"),
    "BE": _("Berlin"),
    "BB": _("Brandenburg"),
    "HB": _("Bremen"),
    "HH": _("Hamburg"),
    "HE": _("Hesse"),
    "MV": _("Mecklenburg-Western Pomerania"),
    "NI": _("Lower Saxony"),
    "NW": _("North Rhine-Westphalia"),
    "RP": _("Rhineland-Palatinate"),
    "SL": _("Saarland"),
    "SN": _("Saxony"),
    "ST": _("Saxony-Anhalt"),
    "SH": _("Schleswig-Holstein"),
    "TH": _("Thuringia"),
}
assert set(STATE_NAMES) == set(GERMAN_STATES)


def _resource_label(resource: Resource) -> str:
    if resource.active:
        return resource.name
    return format_lazy("{} ({})", resource.name, _("inactive"))


class ResourceChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _resource_label(obj)


class ServiceChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.active else format_lazy("{} ({})", obj.name, _("inactive"))


class ServiceForm(forms.ModelForm):
    # Read in the business's locale, not the browser's (termino/shared/money.py); empty means free.
    price = PriceField(required=False)
    resources = ResourceChoices(
        queryset=Resource.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Performed by"),
        help_text=_("Only the staff members (and rooms) ticked here can be booked for this service."),
    )

    class Meta:
        model = Service
        fields = [
            "name", "description", "duration_minutes", "price", "buffer_before_minutes",
            "buffer_after_minutes", "min_notice_minutes", "horizon_days", "slot_step_minutes", "capacity",
            "requires_room", "colour", "bookable_online", "active", "processing_after_minutes",
            "processing_minutes", "online_series_count", "online_series_interval_weeks",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "colour": forms.TextInput(attrs={"type": "color"}),
        }
        help_texts = {
            "description": _("Shown to customers on the booking page."),
            "buffer_before_minutes": _("Time kept free before the appointment, e.g. to prepare."),
            "buffer_after_minutes": _("Time kept free after the appointment, e.g. to clean up."),
            "min_notice_minutes": _(
                "How long before the start customers can book online at the latest (1440 = one day)."
            ),
            "horizon_days": _("How many days ahead customers can book online."),
            "slot_step_minutes": _("Gap between the start times offered, e.g. 15 gives 9:00, 9:15, 9:30."),
            "capacity": _(
                "More than 1 makes it a group session (e.g. a course): that many customers can book one time."
            ),
            "requires_room": _("Each appointment also takes one of the rooms ticked below."),
            "processing_after_minutes": _("When the processing time begins, counted from the start."),
            "processing_minutes": _(
                "Time in which the product works (e.g. colour): the customer and the room stay, the staff "
                "member can serve someone else. 0 means none."
            ),
            "colour": _("Marks the service in the calendar."),
            "bookable_online": _("Offered on the booking page. If off, only your team can book it."),
            "active": _("Inactive services cannot be booked; existing appointments stay."),
            "online_series_count": _(
                "For courses: customers book all these appointments at once, at the same weekday and time, "
                "with the same staff member, or none of them. 0 means single appointments."
            ),
            "online_series_interval_weeks": _("1 means weekly, 2 every other week."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = Resource.objects.order_by("kind", "-active", "name", "pk")
        if self.instance.pk and not self.is_bound:
            self.initial["resources"] = list(self.instance.resources.values_list("pk", flat=True))
        for name, (low, high) in SERVICE_LIMITS.items():
            field = self.fields[name]
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update(min=low, max=high)
        for name in ("processing_after_minutes", "processing_minutes"):
            self.fields[name].required = False  # empty: no processing time
        for name in ("online_series_count", "online_series_interval_weeks"):
            self.fields[name].required = False  # empty: single appointments (every week)
        self.fields["colour"].validators.append(
            RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Choose a colour such as #3b82f6."))
        )

    def clean(self):
        data = super().clean()
        for name in ("processing_after_minutes", "processing_minutes"):
            if data.get(name) is None and name not in self.errors:
                data[name] = 0
        for name, empty in (("online_series_count", 0), ("online_series_interval_weeks", 1)):
            if data.get(name) is None and name not in self.errors:
                data[name] = empty
        course_problem = online_series_problem(data.get("online_series_count"))
        if course_problem:
            self.add_error("online_series_count", course_problem)
        problem = processing_problem(
            duration=data.get("duration_minutes") or 0,
            after=data.get("processing_after_minutes") or 0,
            minutes=data.get("processing_minutes") or 0,
            capacity=data.get("capacity") or 1,
        )
        if problem and "processing_minutes" not in self.errors:
            self.add_error("processing_minutes", problem)
        return data

    def clean_price(self):
        return self.cleaned_data["price"] or Decimal(0)

    def staff_and_rooms(self):
        """The resource checkboxes split by kind, for two groups on the page."""
        kinds = {r.pk: r.kind for r in self.fields["resources"].queryset}
        groups = {ResourceKind.STAFF: [], ResourceKind.ROOM: []}
        for checkbox in self["resources"]:
            groups[kinds[checkbox.data["value"].value]].append(checkbox)
        return [(ResourceKind(kind).label, boxes) for kind, boxes in groups.items()]


class ResourceForm(forms.ModelForm):
    services = ServiceChoices(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Services offered"),
    )

    class Meta:
        model = Resource
        fields = ["kind", "name", "services", "active"]
        widgets = {"kind": forms.RadioSelect}
        help_texts = {
            "active": _("Inactive staff members and rooms cannot be booked; existing appointments stay."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("-active", "name", "pk")
        self.fields["kind"].choices = ResourceKind.choices  # radios without the blank "---------"
        if self.instance.pk and not self.is_bound:
            self.initial["services"] = list(self.instance.services.values_list("pk", flat=True))

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if self.instance.pk and self.instance.user_id and kind != ResourceKind.STAFF:
            raise forms.ValidationError(_("This staff member is linked to a login and cannot become a room."))
        return kind


# --- Weekly hours -----------------------------------------------------------------------------------------

# Rows per day the page offers on top of the saved ones: enough for a day with a break, without JS.
EXTRA_ROWS = 2
MAX_ROWS = 12
_ROW_KEY = re.compile(r"^d(?P<day>[0-6])-(?P<row>\d{1,2})-(?P<part>start|end)$")


# Where a browser shows a text box instead of a time picker, people may type the end of the day as 24:00.
_END_OF_DAY_TEXT = re.compile(r"^24(?:[:.]?00(?::00)?)?$")


class EndOfDayTimeField(forms.TimeField):
    """The end of an interval: a time, where 00:00 and a typed 24:00 both mean midnight at the end of the day.

    Time inputs cannot show 24:00, so the page shows 00:00 with a hint that it means 24:00.
    """

    def to_python(self, value):
        if isinstance(value, str) and _END_OF_DAY_TEXT.match(value.strip()):
            return END_OF_DAY
        return super().to_python(value)


def _means_end_of_day(value) -> bool:
    """Whether an end field's value (saved `time` or typed text) is midnight at the end of the day."""
    if isinstance(value, time):
        return is_end_of_day(value)
    text = (value or "").strip()
    return bool(_END_OF_DAY_TEXT.match(text)) or text in ("00:00", "00:00:00", "0:00")


class HoursMode:
    BUSINESS = "business"  # a resource follows the opening hours
    OWN = "own"


class WeeklyHoursForm(forms.Form):
    """Zero or more intervals per weekday, fields `d<weekday>-<row>-start` / `-end`.

    Rows come in any number and numbering (the page's script adds and removes some), so the fields are
    built from the submitted keys. Without a script the page shows EXTRA_ROWS empty rows per day. For a
    resource, `mode` says whether it follows the business's opening hours or has its own.
    """

    mode = forms.ChoiceField(
        label=_("Working hours"),
        widget=forms.RadioSelect,
        choices=[
            (HoursMode.BUSINESS, _("Same as the opening hours")),
            (HoursMode.OWN, _("Own working hours")),
        ],
    )

    def __init__(self, *args, days=None, for_resource: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.for_resource = for_resource
        if not for_resource:
            del self.fields["mode"]
        rows: dict[int, list[int]] = defaultdict(list)
        if self.is_bound:
            for key in self.data:
                match = _ROW_KEY.match(key)
                if match and int(match["row"]) not in rows[int(match["day"])]:
                    rows[int(match["day"])].append(int(match["row"]))
        else:
            days = days or [[] for _ in range(7)]
            for day, intervals in enumerate(days):
                rows[day] = list(range(len(intervals) + EXTRA_ROWS))
                for row, (opens, closes) in enumerate(intervals):
                    self.initial[f"d{day}-{row}-start"] = opens
                    self.initial[f"d{day}-{row}-end"] = closes
            if for_resource:
                self.initial.setdefault("mode", HoursMode.OWN if any(days) else HoursMode.BUSINESS)
        self.rows = {day: sorted(rows.get(day, [])) for day in range(7)}
        for day, numbers in self.rows.items():
            for row in numbers:
                self.fields[f"d{day}-{row}-start"] = forms.TimeField(
                    required=False,
                    label=format_lazy("{}, {}", WEEKDAYS[day], _("from")),
                    widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
                )
                self.fields[f"d{day}-{row}-end"] = EndOfDayTimeField(
                    required=False,
                    label=format_lazy("{}, {}", WEEKDAYS[day], _("until")),
                    widget=forms.TimeInput(
                        format="%H:%M", attrs={"type": "time", "aria-describedby": "hours-midnight-help"}
                    ),
                )
        self.day_errors: dict[int, list[str]] = defaultdict(list)
        self.intervals: list[WeeklyInterval] = []

    def clean(self):
        cleaned = super().clean()
        if self.for_resource and cleaned.get("mode") == HoursMode.BUSINESS:
            # The rows on the page do not count (the script hides them): the opening hours apply.
            for key in [key for key in self._errors if _ROW_KEY.match(key)]:
                del self._errors[key]
            self.intervals = []
            return cleaned
        intervals = []
        for day, numbers in self.rows.items():
            mine = []
            for row in numbers:
                start_key, end_key = f"d{day}-{row}-start", f"d{day}-{row}-end"
                if start_key in self._errors or end_key in self._errors:
                    continue
                opens, closes = cleaned.get(start_key), cleaned.get(end_key)
                if opens is None and closes is None:
                    continue  # an empty row: nothing there
                if opens is None:
                    self.add_error(start_key, _("Enter the start as well."))
                elif closes is None:
                    self.add_error(end_key, _("Enter the end as well."))
                elif problem := weekly_interval_problem(weekday=day, start=opens, end=closes):
                    self.add_error(end_key, problem)
                else:
                    mine.append((opens, closes))
            mine.sort(key=lambda pair: (day_microseconds(pair[0]), day_microseconds(pair[1], end=True)))
            for (a_start, a_end), (b_start, b_end) in itertools.pairwise(mine):
                if day_microseconds(b_start) < day_microseconds(a_end, end=True):
                    self.day_errors[day].append(
                        _("%(first)s and %(second)s overlap.")
                        % {"first": interval_text(a_start, a_end), "second": interval_text(b_start, b_end)}
                    )
            if len(mine) > MAX_ROWS:
                self.day_errors[day].append(_("At most %(count)s intervals per day.") % {"count": MAX_ROWS})
            intervals += [WeeklyInterval(weekday=day, start=s, end=e) for s, e in mine]
        if self.day_errors:
            raise forms.ValidationError(_("Some times overlap. Please correct the marked days."))
        if self.for_resource and not intervals and not self._errors:
            raise forms.ValidationError(
                _(
                    "Enter at least one working time, or choose “Same as the opening hours”. To stop all "
                    "bookings with this staff member or room, deactivate it instead."
                )
            )
        self.intervals = intervals
        return cleaned

    def _row(self, day: int, row: int) -> tuple:
        """(start, end) bound fields and whether the end is midnight, to say "24:00" next to its 00:00."""
        end = self[f"d{day}-{row}-end"]
        return self[f"d{day}-{row}-start"], end, _means_end_of_day(end.value())

    def days(self):
        """Per weekday: its name, its rows as (start, end, ends at 24:00), its errors; for the template."""
        return [
            {
                "weekday": day,
                "name": WEEKDAYS[day],
                "rows": [self._row(day, row) for row in numbers],
                "next_row": max(numbers, default=-1) + 1,
                "errors": self.day_errors.get(day, []),
            }
            for day, numbers in self.rows.items()
        ]


# --- Closures and public holidays ---------------------------------------------------------------------------


class ResourceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return format_lazy("{} – {}", _resource_label(obj), ResourceKind(obj.kind).label)


class ClosureForm(forms.Form):
    resource = ResourceChoice(
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("The whole business"),
        label=_("Who is closed"),
    )
    start_date = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a single day."),
    )
    start_time = forms.TimeField(
        label=_("From (time)"),
        required=False,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text=_("Leave empty to close from the start of the first day."),
    )
    end_time = forms.TimeField(
        label=_("Until (time)"),
        required=False,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text=_("Leave empty to close until the end of the last day."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("For example “Holiday” or “Training”. Only your team sees it."),
    )

    def __init__(self, *args, time_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(time_zone)
        self.fields["resource"].queryset = Resource.objects.order_by("kind", "-active", "name", "pk")

    def clean(self):
        cleaned = super().clean()
        first = cleaned.get("start_date")
        if first is None:
            return cleaned
        last = cleaned.get("end_date") or first
        if last < first:
            self.add_error("end_date", _("The last day cannot be before the first day."))
            return cleaned
        # A closure is a wall-clock range: on a change night it covers every instant its clock times span.
        start = timeutils.local_at(first, cleaned.get("start_time") or time.min, self.zone)
        if cleaned.get("end_time") is not None:
            wall_end = datetime.combine(last, cleaned["end_time"])
            end = timeutils.local_instant_lenient(wall_end, self.zone, is_end=True)
        else:
            end = timeutils.local_midnight(last + timedelta(days=1), self.zone)
        if end <= start:
            self.add_error("end_time", _("The end must be after the start."))
        cleaned["start"], cleaned["end"] = start, end
        return cleaned


class HolidayImportForm(forms.Form):
    state = forms.ChoiceField(label=_("Federal state"))
    years = forms.TypedMultipleChoiceField(label=_("Years"), coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(STATE_NAMES.items(), key=lambda item: str(item[1]))
        self.fields["state"].choices = [("", _("Choose a state")), *names]
        self.fields["years"].choices = [(today.year, today.year), (today.year + 1, today.year + 1)]
        self.initial.setdefault("years", [today.year, today.year + 1])
