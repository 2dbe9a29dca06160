"""The one Celery app: broker and results on Redis (settings CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "termino.settings")

app = Celery("termino")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from termino.shared.observability import tasks as _request_ids  # noqa: E402, F401  (signal handlers)
