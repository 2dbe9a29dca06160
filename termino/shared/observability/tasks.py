"""The request id travels with the tasks a request queues, so a worker's log lines join the request's."""

from celery.signals import before_task_publish, task_postrun, task_prerun

from .context import request_id

_tokens = {}


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    if headers is not None and request_id.get():
        headers.setdefault("termino_request_id", request_id.get())


@task_prerun.connect
def _adopt_request_id(task_id=None, task=None, **_):
    # A task queued outside any request (beat, a command) is known by its own id.
    offered = getattr(task.request, "termino_request_id", None) if task is not None else None
    _tokens[task_id] = request_id.set(offered or task_id or "")


@task_postrun.connect
def _drop_request_id(task_id=None, **_):
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)
