"""Fan a periodic job out to every live business: one task per schema, so one slow business holds back
no other."""

from celery import current_app

from .selectors import live_business_schemas


def fan_out(task_name: str, **kwargs) -> int:
    schemas = live_business_schemas()
    for schema in schemas:
        current_app.send_task(task_name, kwargs={**kwargs, "schema_name": schema})
    return len(schemas)
