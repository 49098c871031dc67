import os
import uuid

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from payex_ledger.logs import request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payex_ledger.settings")

app = Celery("payex_ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The request id follows the work into the task it queued (payex_ledger.logs): a task queued while
# answering a request logs that request's id; a task of the beat or another task gets its own id.
@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    if headers is not None and request_id_var.get() != "-":
        headers.setdefault("request_id", request_id_var.get())


@task_prerun.connect
def _take_request_id(task=None, **_):
    if task is None:
        return
    carried = getattr(task.request, "request_id", None) or (task.request.headers or {}).get("request_id")
    if task.request.is_eager and request_id_var.get() != "-":
        carried = request_id_var.get()  # run in the request's own thread (CELERY_TASK_ALWAYS_EAGER)
    task.request._request_id_reset = request_id_var.set(carried or f"task-{task.request.id or uuid.uuid4().hex}")


@task_postrun.connect
def _drop_request_id(task=None, **_):
    reset = getattr(task.request, "_request_id_reset", None) if task is not None else None
    if reset is not None:
        request_id_var.reset(reset)
