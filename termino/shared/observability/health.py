"""Readiness: can this process serve requests? The database and Redis must answer, quickly."""

import logging

from django.db import connection

from .redis_client import client

logger = logging.getLogger(__name__)


def readiness() -> dict[str, str]:
    """{component: problem} for what does not answer; empty when ready."""
    problems = {}
    try:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means not ready; the probe says which part
        problems["database"] = type(exc).__name__
        logger.warning("readiness: database unavailable: %s", exc)
        connection.close_if_unusable_or_obsolete()
    try:
        client().ping()
    except Exception as exc:
        problems["redis"] = type(exc).__name__
        logger.warning("readiness: redis unavailable: %s", exc)
    return problems
