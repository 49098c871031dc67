"""Redis (the Celery broker) down (issue 27, docs/reliability.md): the web, the API and the portal keep
answering, an operator's request that would start a task still succeeds (the work is queued in the
database, not only in Redis) and runs with the next run once Redis is back.

Real processes: gunicorn and a `python` process whose broker is a port nothing listens on."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distribution.models import Document, DocumentStatus
from distribution.services.sending import documents_distribute
from ledger.verify import ledger_verify
from tests.cusin.test_celery_worker import database_url
from tests.factories import DocumentFactory, InvoiceFactory

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_with_the_broker_down_pages_answer_and_a_requested_copy_waits_in_the_database(transactional_db, settings,
                                                                                       tmp_path):  # fmt: skip
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    invoice = InvoiceFactory()
    sent = DocumentFactory(customer=invoice.customer, invoice=invoice, ledger=invoice.ledger, status="sent",
                           kind="invoice", booking_date=invoice.ledger.today())  # fmt: skip
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    env = {**os.environ, "DATABASE_URL": database_url(), "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR),
           "REDIS_URL": dead, "CELERY_BROKER_URL": dead, "CELERY_RESULT_BACKEND": dead, "DJANGO_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "payex_ledger.settings"}  # fmt: skip

    # An operator asks for a copy: the request succeeds though the task cannot be sent.
    request = subprocess.run(
        [sys.executable, "-c", "import django, json; django.setup()\n"
         "from distribution.models import Document\nfrom distribution.requests import document_copy_send\n"
         f"copy = document_copy_send(document=Document.objects.get(pk={sent.pk}), actor='op')\n"
         "print(json.dumps({'copy': copy.pk}))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert request.returncode == 0, request.stderr[-3000:]
    copy = Document.objects.get(pk=json.loads(request.stdout)["copy"])
    assert copy.status == DocumentStatus.QUEUED  # in the database: nothing lost with Redis
    assert "distribute_documents" in request.stderr or "Error" in request.stderr  # the failure is logged

    # The web, the API and the portal answer.
    port = closed_port()
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    web = subprocess.Popen([gunicorn, "payex_ledger.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                            "--log-level", "warning"], cwd=ROOT, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        answers = {}
        for path in ("/health/", "/360/", f"/api/v1/ledgers/{invoice.ledger.company_no}/invoices/", "/p/not-a-token/"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            answers[path] = conn.getresponse().status
            conn.close()
    finally:
        web.terminate()
        web.wait(timeout=30)
    assert answers["/health/"] == 200
    assert answers["/360/"] in (200, 302)
    assert answers[f"/api/v1/ledgers/{invoice.ledger.company_no}/invoices/"] in (401, 403)  # no token: refused, no 500
    assert answers["/p/not-a-token/"] == 404

    # Redis back: the next distribution run (the task, or the business day's part) sends the copy.
    documents_distribute(as_of=invoice.ledger.today(), ledger=invoice.ledger)
    copy.refresh_from_db()
    assert copy.status not in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING, DocumentStatus.RETRY), copy.last_error
    assert all(check["ok"] for check in ledger_verify(ledger=invoice.ledger))
