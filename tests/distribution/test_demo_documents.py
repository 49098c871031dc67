from datetime import date
from decimal import Decimal

from distribution.demo import demo_documents
from distribution.models import Document, DocumentKind
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory
from tests.helpers import book_costs


def test_demo_leaves_documents_of_every_kind_once(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, email="demo@example.no", phone="+4791234567")
    invoices = [make_invoice(ledger_no, customer=customer, invoice_no=f"D-{n}") for n in range(3)]
    book_costs(invoices[2], fee=Decimal("35.00"))
    first = demo_documents(ledger=ledger_no, as_of=date(2026, 2, 20))
    assert first["errors"] == []
    assert set(Document.objects.values_list("kind", flat=True)) == set(DocumentKind.values)
    assert set(Document.objects.values_list("status", flat=True)) <= {"sent", "archived"}
    assert not Document.objects.filter(archive_name="").exists()
    again = demo_documents(ledger=ledger_no, as_of=date(2026, 2, 20))
    assert (again["queued"], again["documents"]) == (0, 0)
