"""distribute_documents, register_returns and show_invoice's documents: JSON on stdout."""

import json
from datetime import date
from io import StringIO

from django.core.management import call_command

from distribution.models import Document
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.tasks import distribute_documents
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory


def run(*args):
    out = StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_distribute_documents_queues_invoices_and_sends(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, email="kari@example.no")
    invoice = make_invoice(ledger_no, customer=customer)
    code, out = run("distribute_documents", "--date", "2026-01-05", "--ledger", ledger_no.company_no)
    assert code == 0
    assert out["invoice_documents_queued"] == 1
    assert (out["documents"], out["by_kind"], out["by_channel"]) == (1, {"invoice": 1}, {"email": 1})
    code, again = run("distribute_documents", "--date", "2026-01-05")
    assert (code, again["invoice_documents_queued"], again["documents"]) == (0, 0, 0)

    code, shown = run("show_invoice", "--ledger", ledger_no.company_no, invoice.invoice_no)
    assert code == 0
    [document] = shown["documents"]
    stored = Document.objects.get()
    assert document["kind"] == "invoice" and document["channel"] == "email"
    assert document["address"] == {"email": "kari@example.no"}
    assert document["reason"] == "default priority: e-mail address known"
    assert document["archive"] == f"documents/{stored.archive_name}"
    assert (data_dir / document["archive"]).is_file()
    assert document["checksum"] == stored.checksum and len(document["checksum"]) == 64
    assert shown["distribution_status"] == ""


def test_distribute_documents_bad_date_is_a_usage_error(db):
    code, out = run("distribute_documents", "--date", "05.01.2026")
    assert code == 1 and out["error"]["code"] == "usage"


def test_register_returns_file(db, data_dir, ledger_no, tmp_path):
    invoice = make_invoice(ledger_no, customer=CustomerFactory(ledger=ledger_no, email=""))
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_no.id, invoice.customer_id, invoice.id, "reminder", date(2026, 2, 1), "r", {}
            )
        ]
    )
    run("distribute_documents", "--date", "2026-02-01")
    document = Document.objects.get(kind="reminder")
    returns = tmp_path / "returns.csv"
    returns.write_text(
        "document_id,kind,reason,line1,postal_code,city\n"
        f"{document.pk},paper_returned,Ukjent adressat,,,\n"
        "999999,paper_returned,x,,,\n"
    )
    code, out = run(
        "register_returns", str(returns), "--ledger", ledger_no.company_no, "--date", "2026-02-10"
    )
    assert code == 0
    assert out["registered"] == [{"line": 2, "document": document.pk, "status": "open"}]
    assert out["rejected"] == [
        {
            "line": 3,
            "code": "document_not_found",
            "message": f"document 999999 not found in ledger {ledger_no.company_no}",
        }
    ]
    code, shown = run("show_invoice", "--ledger", ledger_no.company_no, invoice.invoice_no)
    assert shown["distribution_status"] == "paper_distribution_returned"


def test_celery_task_runs_the_service(db, data_dir, ledger_no):
    invoice = make_invoice(ledger_no)
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_no.id, invoice.customer_id, invoice.id, "reminder", date(2026, 2, 1), "r", {}
            )
        ]
    )
    # apply() runs the task in this process whether or not a broker is configured (CI sets REDIS_URL).
    result = distribute_documents.apply(args=["2026-02-01", ledger_no.company_no]).get()
    assert result["documents"] == 1 and result["ledger"] == ledger_no.company_no
