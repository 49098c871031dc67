"""An SMS provider that takes a message and answers only after our timeout (issue 27,
docs/reliability.md): the document waits for its retry with the attempt and the error recorded, is not
retried before its wait (doubling per attempt) is over, and its retry carries the same idempotency key,
so the provider sends nothing twice. The provider is a real HTTP server on loopback that honours the
`Idempotency-Key` header as such gateways do."""

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from distribution.models import Document, DocumentEvent
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.faults

DAY = date(2026, 2, 1)


@pytest.fixture
def slow_provider():
    """Takes every new message at once, answers the first one 2 s late; a repeated key is answered at
    once with the message already taken."""
    delivered, requests, by_key = [], [], {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers["Idempotency-Key"]
            requests.append(key)
            if key not in by_key:
                by_key[key] = f"msg-{len(by_key) + 1}"
                delivered.append(body)  # sent to the phone
                if len(delivered) == 1:
                    time.sleep(2)  # ... and answered after the client gave up
            data = json.dumps({"id": by_key[key]}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client has hung up
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sms", delivered, requests
    server.shutdown()
    server.server_close()


def test_a_message_the_provider_took_but_answered_late_is_never_sent_twice(db, data_dir, ledger_no, settings,
                                                                           slow_provider):  # fmt: skip
    url, delivered, requests = slow_provider
    settings.SMS_HTTP_URL, settings.SMS_HTTP_TIMEOUT_SECONDS = url, 1
    settings.DOCUMENT_RETRY_BACKOFF_SECONDS = 60
    customer = CustomerFactory(ledger=ledger_no, phone="+4791234567")
    invoice = make_invoice(ledger_no, customer=customer)
    documents_queue(requests=[DocumentRequest(ledger_no.id, customer.id, invoice.id, "sms_reminder", DAY, "s", {})])

    documents_distribute(as_of=DAY)  # the provider takes it, we time out

    document = Document.objects.get()
    assert (document.status, document.attempts) == ("retry", 1)
    assert "timed out" in document.last_error and document.last_error.startswith("sms_gateway_error")
    assert DocumentEvent.objects.filter(document=document, to_status="retry").count() == 1

    documents_distribute(as_of=DAY)  # too soon: the wait after the first attempt is not over
    assert Document.objects.get().attempts == 1 and requests == [f"document-{document.pk}"]

    with connection.cursor() as cursor:  # a minute later
        cursor.execute("UPDATE distribution_document SET claimed_at = claimed_at - interval '61 seconds'")
    documents_distribute(as_of=DAY)

    document.refresh_from_db()
    assert (document.status, document.attempts) == ("sent", 2)
    assert requests == [f"document-{document.pk}"] * 2  # the same key both times
    assert len(delivered) == 1  # sent to the phone once
    assert DocumentEvent.objects.get(document=document, to_status="sent").detail["message_id"] == "msg-1"


def test_the_wait_doubles_with_each_attempt(db, data_dir, ledger_no, settings):
    settings.DOCUMENT_RETRY_BACKOFF_SECONDS = 60
    settings.SMS_HTTP_URL, settings.SMS_HTTP_TIMEOUT_SECONDS = "http://127.0.0.1:9/none", 1  # nothing there
    customer = CustomerFactory(ledger=ledger_no, phone="+4791234567")
    invoice = make_invoice(ledger_no, customer=customer)
    documents_queue(requests=[DocumentRequest(ledger_no.id, customer.id, invoice.id, "sms_reminder", DAY, "s", {})])
    documents_distribute(as_of=DAY)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE distribution_document SET claimed_at = claimed_at - interval '61 seconds'")
    documents_distribute(as_of=DAY)
    assert Document.objects.get().attempts == 2

    with connection.cursor() as cursor:  # after the second attempt one minute is not enough: two are
        cursor.execute("UPDATE distribution_document SET claimed_at = claimed_at - interval '61 seconds'")
    documents_distribute(as_of=DAY)
    assert Document.objects.get().attempts == 2
    with connection.cursor() as cursor:
        cursor.execute("UPDATE distribution_document SET claimed_at = claimed_at - interval '60 seconds'")
    documents_distribute(as_of=DAY)
    assert (Document.objects.get().status, Document.objects.get().attempts) == ("failed", 3)
