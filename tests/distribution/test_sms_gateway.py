"""The HTTP SMS gateway adapter against a real local HTTP server."""

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from distribution.models import Document, DocumentEvent
from distribution.senders import HttpSmsGateway, SendFailed
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory


@pytest.fixture
def gateway_server():
    received, answers = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": json.loads(body), "path": self.path})
            status, payload = answers.pop(0) if answers else (200, {"id": f"msg-{len(received)}"})
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received, answers
    server.shutdown()
    server.server_close()


def test_http_gateway_posts_json_with_token(gateway_server, settings):
    url, received, _ = gateway_server
    message_id = HttpSmsGateway(url, "secret").send(
        to="+4791234567", text="Betal her", reference="document-7-1"
    )
    assert message_id == "msg-1"
    [request] = received
    assert request["path"] == "/sms"
    assert request["body"] == {
        "to": "+4791234567",
        "from": "PayEx",
        "text": "Betal her",
        "reference": "document-7-1",
    }
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["headers"]["Idempotency-Key"] == "document-7-1"


def test_http_gateway_errors(gateway_server):
    url, _, answers = gateway_server
    answers.append((400, {"error": "invalid number"}))
    with pytest.raises(SendFailed) as exc:
        HttpSmsGateway(url).send(to="+47", text="x", reference="r")
    assert (exc.value.code, exc.value.permanent) == ("sms_rejected", True)
    answers.append((503, {"error": "busy"}))
    with pytest.raises(SendFailed) as exc:
        HttpSmsGateway(url).send(to="+4791234567", text="x", reference="r")
    assert (exc.value.code, exc.value.permanent) == ("sms_gateway_error", False)
    with pytest.raises(SendFailed) as exc:
        HttpSmsGateway("http://127.0.0.1:9/none", timeout=2).send(to="+4791234567", text="x", reference="r")
    assert exc.value.code == "sms_gateway_error"


def test_distribution_uses_the_http_gateway_when_configured(
    db, data_dir, ledger_no, settings, gateway_server
):
    url, received, answers = gateway_server
    settings.SMS_HTTP_URL = url
    customer = CustomerFactory(ledger=ledger_no, phone="+4791234567")
    invoice = make_invoice(ledger_no, customer=customer)
    documents_queue(
        requests=[
            DocumentRequest(ledger_no.id, customer.id, invoice.id, "sms_reminder", date(2026, 2, 1), "s", {})
        ]
    )
    answers.append((503, {"error": "busy"}))
    documents_distribute(as_of=date(2026, 2, 1))
    documents_distribute(as_of=date(2026, 2, 1))
    document = Document.objects.get()
    assert (document.status, document.attempts) == ("sent", 2)
    # one idempotency key per message, the same in the retry
    assert [r["body"]["reference"] for r in received] == [f"document-{document.pk}"] * 2
    assert [r["headers"]["Idempotency-Key"] for r in received] == [f"document-{document.pk}"] * 2
    assert invoice.payment_ref not in received[1]["body"]["text"]  # the link, not the reference, pays
    assert "https://portal.example.test/p/" in received[1]["body"]["text"]
    sent = DocumentEvent.objects.get(document=document, to_status="sent")
    assert sent.detail["message_id"] == "msg-2"
