"""Celery tasks that run inside one business's schema.

Every tenant task takes `schema_name` as a keyword argument; the base class switches the connection to
that schema for the task's duration and refuses to run without one, in `public`, or in a schema that is
not a live business. A task therefore never runs in the wrong schema and never silently in `public`.
"""

from celery import Task
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context, schema_exists


class WrongSchema(Exception):
    """A tenant task was called without a valid business schema."""


class TenantTask(Task):
    abstract = True
    # Beat fans out often; a lost worker must hand its task to another one, and a crash retries it.
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args, **kwargs):
        schema = kwargs.get("schema_name")
        if not schema or schema == settings.PUBLIC_SCHEMA_NAME:
            raise WrongSchema(f"{self.name} needs the schema_name of a business, got {schema!r}")
        if not schema.startswith("t_") or not schema_exists(schema):
            raise WrongSchema(f"{self.name}: there is no business schema {schema!r}")
        with schema_context(schema):
            try:
                return super().__call__(*args, **kwargs)
            finally:
                connection.set_schema_to_public()
