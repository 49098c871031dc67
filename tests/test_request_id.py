"""The request id follows the work: into the Celery task a request queued (payex_ledger/celery.py)."""

from celery.signals import before_task_publish

from payex_ledger.celery import app
from payex_ledger.logs import request_id_var


@app.task
def current_request_id() -> str:
    return request_id_var.get()


def test_a_task_queued_in_a_request_carries_its_id_and_one_without_gets_its_own():
    reset = request_id_var.set("req-0123456789")
    try:
        headers = {}
        before_task_publish.send(sender="ledger.tasks.any", body=(), headers=headers)
        assert headers["request_id"] == "req-0123456789"  # what the worker's task_prerun takes up
        assert current_request_id.apply().get() == "req-0123456789"  # eager: in the request's thread
    finally:
        request_id_var.reset(reset)
    own = current_request_id.apply().get()
    assert own.startswith("task-") and request_id_var.get() == "-"
    headers = {}
    before_task_publish.send(sender="ledger.tasks.any", body=(), headers=headers)
    assert "request_id" not in headers
