"""A web worker made ready before its first request (gunicorn's `post_worker_init`, deploy/gunicorn.conf.py).

Without it a worker's first requests import the views, compile the templates and load the translation
catalogs: the first API call a worker answered after it started (a deploy, or `max_requests`) took
0.41-0.45 s where the next ones took 9-11 ms, and the requests behind it waited. Warmed up, the first
takes 31-48 ms (its database connection and the business's catalog entries).

And Python's cyclic garbage collector walked every object Django and the libraries had created by then
(about 180,000 after the warm-up) in each of its full collections: a pause of about 100 ms now and then
(the slowest of 600 staff availability requests on one worker: 106 and 109 ms in two runs, 25 and 19 ms
with this). `freeze()` moves them out of its way (`gc.freeze`): they live as long as the process anyway;
what requests create is collected as before. The youngest generation is collected after 20,000
allocations instead of 700: a 30-day availability answer alone made four such collections.
"""

import gc
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.cache import caches
from django.core.validators import URLValidator, validate_email
from django.db import router
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import formats, translation

from termino.shared import phones

GEN0_THRESHOLD = 20_000
# Our own templates (pages, e-mails, SMS texts); the admin's hundreds are compiled when first used.
TEMPLATE_SUFFIXES = (".html", ".txt")


def warm() -> dict:
    """Import every view, load both languages' catalogs, compile our templates, do the first uses, then
    freeze(); returns what it did, for the worker's log line."""
    began = time.perf_counter()
    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        get_resolver(urlconf).reverse_dict  # noqa: B018 - populating it imports every view of the conf
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # activating a language loads the catalogs of every app
            pass
    templates = compile_templates()
    first_uses()
    frozen = freeze()
    took = round((time.perf_counter() - began) * 1000)
    return {"templates": templates, "frozen_objects": frozen, "ms": took}


def compile_templates() -> int:
    """Compile the project's templates into the cached loader (production settings cache them)."""
    root = Path(settings.BASE_DIR) / "termino"
    compiled = 0
    for engine in engines.all():
        for loader in engine.engine.template_loaders:
            for directory in map(Path, loader.get_dirs()):
                if not directory.is_relative_to(root) or not directory.is_dir():
                    continue
                for path in sorted(directory.rglob("*")):
                    if path.suffix not in TEMPLATE_SUFFIXES:
                        continue
                    try:
                        engine.get_template(path.relative_to(directory).as_posix())
                    except TemplateSyntaxError:
                        continue  # its first request reports it, as without a warm-up
                    compiled += 1
    return compiled


def first_uses() -> None:
    """What a worker's first booking did once and every later one skipped: through gunicorn it took 186
    and 255 ms where the next took 88 and 114, with this 126 and 136 ms (next: 78 and 80)."""
    # Django's validators compile their regular expressions on first use, once for every instance (class
    # attributes): the e-mail address's domain pattern alone took 50-80 ms.
    validate_email("warm-up@example.org")
    URLValidator()("https://example.org/")
    for code, _name in settings.LANGUAGES:
        formats.get_format_modules(code)  # dates and numbers in each language
    ZoneInfo(settings.TIME_ZONE)
    for alias in settings.CACHES:
        caches[alias]  # built, and its backend imported, on first use
    router.routers  # noqa: B018 - the database routers are imported at the first query
    # phonenumbers reads a country's numbering plan when it first meets one of its numbers.
    for region in phones.SMS_DEFAULT_REGIONS:
        phonenumbers.PhoneMetadata.metadata_for_region(region)
    # Celery imports and builds its message transport and result backend on the first task sent (the
    # reminders a booking queues): 35-110 ms. Built here, not connected: the first send connects.
    from termino.celery import app

    app.amqp  # noqa: B018
    app.events  # noqa: B018
    app.backend  # noqa: B018
    app.connection_for_write().transport  # noqa: B018


def freeze() -> int:
    """Leave every object alive now out of the collector's work from here on; returns how many."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])
    return gc.get_freeze_count()
