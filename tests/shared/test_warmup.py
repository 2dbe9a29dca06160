"""A web worker's warm-up: run in a process of its own, since it freezes that process's objects."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from termino.shared import phones, warmup

PROBE = """
import gc, json, sys
import django
django.setup()
from django.utils.translation import trans_real
from django.core.validators import EmailValidator, URLValidator
from django.utils.functional import empty
import phonenumbers
def first_uses():
    return {
        "regexes": [
            EmailValidator.domain_regex._wrapped is not empty, URLValidator.regex._wrapped is not empty
        ],
        "phone_regions": sorted(phonenumbers.PhoneMetadata._region_metadata),
    }
before = {
    "first_uses": first_uses(),
    "modules": sorted(sys.modules),
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "languages": sorted(trans_real._translations),
}
from django.template import engines
from termino.shared.warmup import warm
done = warm()
loader = engines["django"].engine.template_loaders[0]
print(json.dumps({
    "before": before,
    "first_uses": first_uses(),
    "done": done,
    "modules": sorted(sys.modules),
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "cached_templates": sorted(str(key) for key in loader.get_template_cache),
    "languages": sorted(trans_real._translations),
}))
"""


@pytest.fixture(scope="module")
def warmed():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "termino.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def project_templates() -> set[str]:
    names = set()
    for directory in Path(settings.BASE_DIR, "termino").rglob("templates"):
        names |= {
            path.relative_to(directory).as_posix()
            for path in directory.rglob("*")
            if path.suffix in warmup.TEMPLATE_SUFFIXES
        }
    return names


def test_every_view_is_imported_before_the_first_request(warmed):
    views = {
        "termino.tenants.booking.apis",
        "termino.tenants.scheduling.apis",
        "termino.platform.billing.views",
    }
    assert not views & set(warmed["before"]["modules"])  # django.setup() alone does not import them
    assert views <= set(warmed["modules"])


def test_every_template_of_the_project_is_compiled_into_the_cache(warmed):
    expected = project_templates()
    assert len(expected) > 100
    assert warmed["done"]["templates"] == len(expected)
    assert expected <= set(warmed["cached_templates"])


def test_both_languages_catalogs_are_loaded(warmed):
    languages = {code for code, _name in settings.LANGUAGES}
    assert not languages <= set(warmed["before"]["languages"])
    assert languages <= set(warmed["languages"])


def test_start_up_objects_are_frozen_and_young_collections_are_rarer(warmed):
    assert warmed["before"]["frozen"] == 0
    assert warmed["frozen"] == warmed["done"]["frozen_objects"] > 50_000
    assert warmed["before"]["threshold"][0] == 700  # Python's default
    assert warmed["threshold"] == [warmup.GEN0_THRESHOLD, *warmed["before"]["threshold"][1:]]


def test_what_a_first_booking_did_once_is_done(warmed):
    # The e-mail and URL checks' patterns, compiled on first use.
    assert warmed["before"]["first_uses"]["regexes"] == [False, False]
    assert warmed["first_uses"]["regexes"] == [True, True]
    # The numbering plans of the countries a business texts by default.
    assert not warmed["before"]["first_uses"]["phone_regions"]
    assert set(phones.SMS_DEFAULT_REGIONS) <= set(warmed["first_uses"]["phone_regions"])
    # The task queue's transport and result backend, and each language's formats.
    lazy = {"kombu.transport.redis", "celery.backends.redis", "django.conf.locale.de.formats"}
    assert not lazy & set(warmed["before"]["modules"])
    assert lazy <= set(warmed["modules"])
