"""Log records carry the request id and the database schema they were written in."""

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from .context import request_id


class ContextFilter(logging.Filter):
    """Adds `request_id` and `schema` (the business's schema, or `public`) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        record.schema = _current_schema()
        return True


def _current_schema() -> str:
    try:
        from django.db import connection

        return connection.schema_name or "-"
    except Exception:  # logging must never fail: before settings are ready there is no connection
        return "-"


class JsonFormatter(_JsonFormatter):
    """One JSON object per line; `time` in ISO 8601 with offset, `level` instead of `levelname`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)
