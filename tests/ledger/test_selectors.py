from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.errors import NotFound
from ledger.models import Invoice
from ledger.selectors import invoice_detail, invoices_for_ledger, ledger_get, ledgers_for_user
from ledger.services.invoice_changes import invoice_credit
from tests.factories import ClientFactory, CustomerFactory, InvoiceFactory, LedgerFactory, UserFactory
from tests.helpers import book_costs


def test_balances_for_a_page_of_invoices_in_one_query(db):
    ledger = LedgerFactory()
    customers = CustomerFactory.create_batch(3, ledger=ledger)
    invoices = [
        InvoiceFactory(customer=customers[n % 3], amount=Decimal("100.00") * (n + 1)) for n in range(6)
    ]
    invoice_credit(invoice=invoices[0], amount=Decimal("40.00"), actor="test")
    book_costs(invoices[1], fee=Decimal("35.00"))

    with CaptureQueriesContext(connection) as queries:
        page = list(invoices_for_ledger(ledger=ledger)[:50])
        rows = {
            i.invoice_no: (i.capital, i.fees, i.interest, i.open_amount, i.customer.customer_no) for i in page
        }
    assert len(queries) == 1
    assert rows[invoices[0].invoice_no][:4] == (Decimal("60.00"), 0, 0, Decimal("60.00"))
    assert rows[invoices[1].invoice_no][:4] == (Decimal("200.00"), Decimal("35.00"), 0, Decimal("235.00"))
    assert rows[invoices[5].invoice_no][3] == Decimal("600.00")


def test_client_user_sees_only_own_ledgers(db):
    mine, theirs = LedgerFactory(), LedgerFactory()
    user = UserFactory(client=mine.client)
    assert list(ledgers_for_user(user)) == [mine]
    assert ledger_get(company_no=mine.company_no, user=user) == mine
    with pytest.raises(NotFound):
        ledger_get(company_no=theirs.company_no, user=user)


def test_staff_without_client_sees_all_and_plain_user_none(db):
    LedgerFactory.create_batch(2)
    staff = UserFactory(client=None, is_staff=True)
    nobody = UserFactory(client=None, is_staff=False)
    assert ledgers_for_user(staff).count() == 2
    assert ledgers_for_user(nobody).count() == 0


def test_inactive_user_sees_nothing(db):
    ledger = LedgerFactory()
    user = UserFactory(client=ledger.client, is_active=False)
    assert ledgers_for_user(user).count() == 0


def test_invoice_detail_of_another_ledger_is_not_found(db):
    invoice = InvoiceFactory(invoice_no="ONLY-HERE")
    other = LedgerFactory()
    with pytest.raises(NotFound) as excinfo:
        invoice_detail(ledger=other, invoice_no="ONLY-HERE")
    assert excinfo.value.code == "invoice_not_found"
    assert invoice_detail(ledger=invoice.ledger, invoice_no="ONLY-HERE")["status"] == "open"


def test_client_factory_is_shared_by_name(db):
    assert ClientFactory(name="Same") == ClientFactory(name="Same")
    assert Invoice.objects.count() == 0
