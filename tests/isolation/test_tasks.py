"""Every Celery task that works in a business's schema, found in the app's registry: given no schema or a
wrong one it refuses to run and changes nothing; given B's schema it touches nothing of A."""

import inspect

import pytest

from termino.celery import app
from termino.platform.tenancy.models import Tenant, TenantStatus
from termino.shared.tasks import TenantTask, WrongSchema

from .attacks import Unchanged

pytestmark = pytest.mark.django_db

app.loader.import_default_modules()  # the autodiscovered task modules


def takes_schema(task) -> bool:
    return "schema_name" in inspect.signature(task.run).parameters


TASKS = sorted(
    (task for name, task in app.tasks.items() if not name.startswith("celery.")), key=lambda t: t.name
)
TENANT_TASKS = [t for t in TASKS if takes_schema(t) or isinstance(t, TenantTask)]
WRONG = ["missing", "", "public", "spare", "t_does_not_exist", "pg_catalog", "T_ALPHA_SALON"]


def test_the_registry_holds_the_tenant_tasks():
    assert {"duework.run", "duework.repair", "notifications.send_due"} <= {t.name for t in TENANT_TASKS}


@pytest.mark.parametrize("task", TENANT_TASKS, ids=lambda t: t.name)
def test_a_task_with_schema_name_is_a_tenant_task(task):
    """The base class is what refuses wrong schemas: a task taking `schema_name` without it would not."""
    assert isinstance(task, TenantTask), f"{task.name} takes schema_name but is not based on TenantTask"
    assert takes_schema(task), f"{task.name} is a TenantTask but does not take schema_name"


def other_arguments(task) -> dict:
    """Placeholders for the task's other required arguments: the schema check comes first."""
    return {
        name: None
        for name, p in inspect.signature(task.run).parameters.items()
        if name != "schema_name"
        and p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


@pytest.mark.parametrize("wrong", WRONG)
@pytest.mark.parametrize("task", TENANT_TASKS, ids=lambda t: t.name)
def test_a_task_refuses_a_missing_or_wrong_schema(sides, task, wrong):
    spare = Tenant.objects.filter(status=TenantStatus.SPARE).values_list("schema_name", flat=True).first()
    assert spare, "the test database keeps spare schemas in the pool"
    kwargs = other_arguments(task)
    if wrong != "missing":
        kwargs["schema_name"] = spare if wrong == "spare" else wrong
    with Unchanged("public", sides.a.schema, sides.b.schema, spare, what=f"{task.name}({kwargs})"):
        with pytest.raises(WrongSchema):
            task(**kwargs)  # what a worker calls
        with pytest.raises(WrongSchema):
            task.apply(kwargs=kwargs).get()  # through Celery's tracer (retries, error handling)


@pytest.mark.parametrize("task", TENANT_TASKS, ids=lambda t: t.name)
def test_a_task_for_b_touches_nothing_of_a(sides, task):
    kwargs = {**other_arguments(task), "schema_name": sides.b.schema}
    with Unchanged(sides.a.schema, what=f"{task.name} for B"):
        task.apply(kwargs=kwargs).get()
