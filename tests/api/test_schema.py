"""Schemathesis over the generated OpenAPI schema: every operation, a bounded and deterministic number
of generated requests, in-process against the real views and database. No 500, no response that
breaks the schema (status documented, content type and body as documented)."""

import json
from contextlib import contextmanager

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from distribution.models import Document, DocumentKind
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from ledger.outbox import company_dir, write_atomic
from tests.factories import CustomerFactory
from tests.ledger.test_payments_import import book, ocr_file, pay, stray_kid

from .conftest import invoice_in, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 10


@contextmanager
def same_connection_wsgi():
    """The WSGI app, without closing the test's database connection at the end of each request
    (as Django's own test client does): the requests see the test's data, and it is rolled back."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_generated_requests_get_no_500_and_answers_that_match_the_schema(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1234567")
    invoice = invoice_in(ledger, customer=customer, invoice_no="A-1")
    invoice_in(ledger, customer=customer, invoice_no="A-2", external_id="ext-1")
    book(ocr_file([pay(invoice.payment_ref, "100.00", "000000001"), pay(stray_kid(), "50.00", "000000002")]))
    write_atomic(company_dir(ledger.company_no, "outbox") / "receipt.xml", b"<Receipt/>")
    payment_id = ledger.payments.order_by("id").last().id
    document_id = archived_invoice_document(invoice)
    secret = token_for(ledger, write=True, rate_limit="100000/min")

    raw = Client().get("/api/schema/?format=json")
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(json.loads(raw.content))
    # Existing resources, so that requests get past the lookups; bodies, queries and headers are generated.
    known = {
        "company_no": ledger.company_no,
        "invoice_no": "A-1",
        "customer_no": customer.customer_no,
        "external_id": "ext-1",
        "payment_id": payment_id,
        "name": "receipt.xml",
        "document_id": document_id,
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    # Credit and write-off close the invoice: run them last, so the other actions meet an open one.
    operations.sort(key=lambda op: op.path.endswith(("/credit/", "/write-off/")))
    assert len(operations) >= 25
    with same_connection_wsgi() as app:
        for operation in operations:
            _fuzz(operation, app, secret, {p: v for p, v in known.items() if "{" + p + "}" in operation.path})


def archived_invoice_document(invoice) -> int:
    """The invoice's `invoice` document, rendered and archived by the distribution run."""
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_id=invoice.ledger_id,
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                kind=DocumentKind.INVOICE,
                booking_date=invoice.invoice_date,
                source_key=f"invoice:{invoice.id}",
                facts={},
            )
        ]
    )
    assert documents_distribute(as_of=invoice.invoice_date, ledger=invoice.ledger)["errors"] == []
    return Document.objects.get(invoice=invoice).id


def _fuzz(operation, app, secret: str, path_parameters: dict) -> None:
    headers = {"Authorization": f"Bearer {secret}"}

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=path_parameters))
    def check(case):
        response = case.call(app=app, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
