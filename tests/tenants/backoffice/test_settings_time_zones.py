"""Settings → Profile: every IANA time zone can be chosen, each shown with its UTC offset right now.

And a business in Kolkata (+05:30), São Paulo (-03:00) or Adelaide (+09:30/+10:30) gets its slots at its
own 09:00.
"""

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import schema_context

from termino.platform.tenancy.models import Tenant
from termino.platform.tenancy.profile import tenant_locale_update
from termino.shared import timeutils
from termino.shared.errors import InvalidRequest
from termino.tenants.backoffice.settings_general_forms import time_zone_choices
from tests.conftest import client_for
from tests.tenants.backoffice.helpers import log_in_as
from tests.tenants.scheduling.factories import salon

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]+)</option>')


def profile(**overrides) -> dict:
    return {
        "time_zone": "Europe/Berlin",
        "language": "de",
        "customer_address": "formal",
        "brand_colour": "#1d4ed8",
        **overrides,
    }


def zone_of(business) -> str:
    return Tenant.objects.get(pk=business.tenant.pk).time_zone


def offset_now(name: str) -> str:
    """ "UTC+05:30": the zone's offset at the test's pinned now, computed independently of the form."""
    local = timezone.now().astimezone(timeutils.zone(name))
    text = local.strftime("%z")
    return f"UTC{text[:3]}:{text[3:5]}"


def listed(html: str) -> list[tuple[str, str]]:
    select = html[html.index('<select name="time_zone"') : html.index("</select>")]
    return [(value, unescape(label)) for value, label in OPTION.findall(select)]


@pytest.mark.clock
def test_every_zone_is_listed_common_ones_first_with_its_offset_now(business_a):
    html = log_in_as(business_a).get("/settings/profile/").content.decode()
    options = listed(html)
    names = [name for name, _label in options]
    every = [name for name, _label in timeutils.zone_choices()]
    assert names == every and len(names) > 400 and len(set(names)) == len(names)
    assert names[: len(timeutils.COMMON_ZONES)] == list(timeutils.COMMON_ZONES)
    labels = dict(options)
    for name in [
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Australia/Adelaide",
        "Pacific/Chatham",
        "Asia/Kathmandu",
    ]:
        assert labels[name] == f"{name.replace('_', ' ')} ({offset_now(name)})"
    assert labels["Asia/Kolkata"] == "Asia/Kolkata (UTC+05:30)"
    assert labels["America/Sao_Paulo"] == "America/Sao Paulo (UTC-03:00)"
    assert labels["Australia/Adelaide"] in (
        "Australia/Adelaide (UTC+09:30)",
        "Australia/Adelaide (UTC+10:30)",
    )
    # Grouped: common ones first, all others after, A to Z.
    assert html.index('<optgroup label="Common time zones">') < html.index(
        '<optgroup label="All time zones">'
    )
    rest = names[len(timeutils.COMMON_ZONES) :]
    assert rest == sorted(rest) and rest[0] == "Africa/Abidjan"
    # The filter box is the script's; the texts it needs come with the list.
    assert 'data-zone-select=""' in html and 'data-filter-label="Find a time zone"' in html
    assert "settings.js" in html


def test_the_offsets_follow_the_clock(business_a):
    """Adelaide is +10:30 in the southern summer and +09:30 in winter; the label says what holds now."""
    labels = {}
    for moment in ("2027-01-15T12:00:00+00:00", "2027-07-15T12:00:00+00:00"):
        with time_machine.travel(datetime.fromisoformat(moment), tick=False):
            groups = time_zone_choices("Europe/Berlin")
            labels[moment[:7]] = dict(groups[0][1] + groups[1][1])["Australia/Adelaide"]
    assert labels == {
        "2027-01": "Australia/Adelaide (UTC+10:30)",
        "2027-07": "Australia/Adelaide (UTC+09:30)",
    }


@pytest.mark.parametrize(
    ("zone", "offsets"),
    [
        ("Asia/Kolkata", {timedelta(hours=5, minutes=30)}),
        ("America/Sao_Paulo", {timedelta(hours=-3)}),
        ("Australia/Adelaide", {timedelta(hours=9, minutes=30), timedelta(hours=10, minutes=30)}),
    ],
)
def test_a_business_far_away_saves_its_zone_and_gets_slots_at_its_own_0900(
    business_a, zone, offsets, django_capture_on_commit_callbacks
):
    with schema_context(business_a.schema):
        service, _staff, _room = salon()  # Monday to Saturday 09:00–18:00
    with django_capture_on_commit_callbacks(execute=True):  # the host cache forgets the old zone on commit
        response = log_in_as(business_a).post("/settings/profile/", profile(time_zone=zone))
    assert response.status_code == 302 and zone_of(business_a) == zone
    page = log_in_as(business_a).get("/settings/profile/").content.decode()
    assert re.search(rf'<option value="{re.escape(zone)}"[^>]*selected', page)

    monday = timeutils.next_weekday(0, timeutils.zone(zone))
    answer = client_for(business_a.host).get(
        f"/api/public/v1/availability/?service={service.pk}&start={monday}&end={monday}"
    )
    slots = answer.json()["slots"]
    first, last = datetime.fromisoformat(slots[0]["start"]), datetime.fromisoformat(slots[-1]["end"])
    assert (first.date(), f"{first:%H:%M}", f"{last:%H:%M}") == (monday, "09:00", "18:00")
    assert first.utcoffset() in offsets and last.utcoffset() == first.utcoffset()
    # The same instant as 09:00 at that offset: 03:30 UTC in Kolkata, 12:00 UTC in São Paulo.
    assert first.astimezone(UTC) == timeutils.local_at(monday, time(9), timeutils.zone(zone))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "“Mars/Olympus” is not a time zone we know. Please choose one from the list."),
        ("de", "„Mars/Olympus“ ist keine Zeitzone, die wir kennen. Bitte wählen Sie eine aus der Liste."),
    ],
)
def test_an_unknown_zone_is_refused(business_a, language, message):
    response = log_in_as(business_a, language=language).post(
        "/settings/profile/", profile(time_zone="Mars/Olympus")
    )
    assert response.status_code == 400 and message in unescape(response.content.decode())
    assert zone_of(business_a) == "Europe/Berlin"


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "Asia/kolkata", "UTC+05:30", "Europe/Berlin "])
def test_anything_but_a_listed_name_is_refused(business_a, bad):
    response = log_in_as(business_a).post("/settings/profile/", profile(time_zone=bad))
    assert response.status_code == 400
    assert zone_of(business_a) == "Europe/Berlin"


def test_a_valid_zone_outside_the_list_stays_choosable_for_a_business_that_has_it(
    business_a, django_capture_on_commit_callbacks
):
    """A business set up with an alias like "CET" sees it on top and can keep it; others cannot pick it."""
    assert "CET" not in [name for name, _label in timeutils.zone_choices()] and timeutils.is_valid_zone("CET")
    Tenant.objects.filter(pk=business_a.tenant.pk).update(time_zone="CET")
    client = log_in_as(business_a)
    assert listed(client.get("/settings/profile/").content.decode())[0][0] == "CET"
    with django_capture_on_commit_callbacks(execute=True):  # the host cache forgets the old zone on commit
        assert client.post("/settings/profile/", profile(time_zone="CET")).status_code == 302
        assert client.post("/settings/profile/", profile(time_zone="Asia/Kolkata")).status_code == 302
    assert zone_of(business_a) == "Asia/Kolkata"
    assert client.post("/settings/profile/", profile(time_zone="CET")).status_code == 400


def test_the_platform_side_refuses_an_unknown_zone_too(business_a):
    tenant = Tenant.objects.get(pk=business_a.tenant.pk)
    with pytest.raises(InvalidRequest) as refused:
        tenant_locale_update(tenant=tenant, time_zone="Atlantis/Capital", language="en")
    assert (
        refused.value.message
        == "“Atlantis/Capital” is not a time zone we know. Please choose one from the list."
    )
    tenant_locale_update(tenant=tenant, time_zone="Australia/Adelaide", language="en")
    assert zone_of(business_a) == "Australia/Adelaide"
