"""The operator commands: JSON on stdout, exit code 1 on failure."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from ledger.models import Account, AccountRole, Invoice, Ledger, Payment, TransactionKind
from ledger.services.invoice_changes import invoice_credit
from ledger.services.journal import Line, journal_book
from tests.factories import InvoiceFactory, LedgerFactory


def run(*args):
    out = StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_create_ledger_onboards_with_chart_and_is_idempotent(db):
    args = (
        "create_ledger",
        "--company-no",
        "9999",
        "--ledger-no",
        "12345",
        "--country",
        "NO",
        "--name",
        "Test Company",
        "--account",
        "15030000002",
    )
    code, first = run(*args)
    assert code == 0
    assert first["created"] is True
    assert (first["currency"], first["reference_scheme"], first["client"]) == (
        "NOK",
        "kid_mod10",
        "Test Company",
    )
    roles = {a["role"]: a["number"] for a in first["accounts"]}
    assert roles["receivable_capital"] == "1500"
    assert (roles["client_funds_bank"], roles["collection_funds_bank"]) == ("1920", "1921")
    assert len(roles) == 13

    code, second = run(*args)
    assert code == 0
    assert second["created"] is False
    assert Ledger.objects.count() == 1
    assert Account.objects.count() == 13


def test_create_swedish_ledger_uses_bas_chart(db):
    code, out = run(
        "create_ledger",
        "--company-no",
        "8888",
        "--ledger-no",
        "54321",
        "--country",
        "SE",
        "--name",
        "Svensk AB",
        "--client",
        "Nordic Group",
    )
    assert code == 0
    assert (out["currency"], out["reference_scheme"], out["client"]) == ("SEK", "ocr14", "Nordic Group")
    assert {a["role"]: a["number"] for a in out["accounts"]}["loss_on_receivables"] == "6350"


def test_create_ledger_conflicting_with_existing_fails(db):
    run("create_ledger", "--company-no", "9999", "--ledger-no", "12345", "--country", "NO", "--name", "A")
    code, out = run(
        "create_ledger", "--company-no", "9999", "--ledger-no", "22222", "--country", "NO", "--name", "A"
    )
    assert code == 1
    assert out["error"]["code"] == "ledger_exists_differently"
    code, out = run(
        "create_ledger", "--company-no", "7777", "--ledger-no", "12345", "--country", "NO", "--name", "B"
    )
    assert code == 1
    assert out["error"]["code"] == "ledger_no_taken"
    assert Ledger.objects.count() == 1


@pytest.mark.parametrize(
    ("company_no", "ledger_no"), [("99a9", "12345"), ("9999", "0123"), ("9999", "1234567890")]
)
def test_create_ledger_rejects_malformed_numbers(db, company_no, ledger_no):
    code, out = run(
        "create_ledger",
        "--company-no",
        company_no,
        "--ledger-no",
        ledger_no,
        "--country",
        "NO",
        "--name",
        "X",
    )
    assert code == 1
    assert out["error"]["field"] in {"company_no", "ledger_no"}
    assert Ledger.objects.count() == 0


def test_show_invoice_prints_balances_reference_and_events(db):
    invoice = InvoiceFactory(amount=Decimal("1000.00"))
    invoice_credit(invoice=invoice, amount=Decimal("200.00"), reason="Discount", actor="kari")
    code, out = run("show_invoice", "--ledger", invoice.ledger.company_no, invoice.invoice_no)
    assert code == 0
    assert (out["status"], out["capital"], out["fees"], out["interest"], out["open_amount"]) == (
        "open",
        "800.00",
        "0.00",
        "0.00",
        "800.00",
    )
    assert out["payment_ref"] == invoice.payment_ref
    assert out["due_date"] == invoice.due_date.isoformat()
    assert [(e["kind"], e["who"], e["why"]) for e in out["events"]] == [
        ("registered", "test", ""),
        ("credited", "kari", "Discount"),
    ]


def test_show_invoice_unknown_fails_with_code(db):
    ledger = LedgerFactory()
    code, out = run("show_invoice", "--ledger", ledger.company_no, "NOPE")
    assert code == 1
    assert out["error"]["code"] == "invoice_not_found"
    code, out = run("show_invoice", "--ledger", "424242", "NOPE")
    assert (code, out["error"]["code"]) == (1, "ledger_not_found")


def test_verify_ledger_passes_on_consistent_books(db):
    invoice = InvoiceFactory()
    invoice_credit(invoice=invoice, amount=Decimal("1.00"), actor="test")
    code, out = run("verify_ledger")
    assert code == 0
    assert out["ok"] is True
    assert {c["check"] for c in out["checks"]} == {
        "transactions_balance",
        "invoice_status_matches_postings",
        "receivables_equal_open_items",
        "suspense_equals_unallocated_payments",
        "bank_in_equals_bank_files",
        "customer_credit_equals_surplus",
        "payouts_equal_journal",
        "booked_debits_equal_payments",
        "birth_dates_equal_national_ids",
        "dashboard_summaries_equal_journal",
        "open_versions_equal_journal",
        "document_months_equal_documents",
    }


def test_verify_ledger_finds_a_status_that_contradicts_the_postings(db):
    invoice = InvoiceFactory()
    # An edit behind the services' back: closed although the postings say it is open.
    Invoice.objects.filter(pk=invoice.pk).update(status="closed", closed_on="2026-02-01")
    code, out = run("verify_ledger", "--ledger", invoice.ledger.company_no)
    assert code == 1
    failed = [c for c in out["checks"] if not c["ok"]]
    assert [c["check"] for c in failed] == ["invoice_status_matches_postings"]
    assert failed[0]["discrepancies"][0]["invoice_no"] == invoice.invoice_no


def test_verify_ledger_finds_receivable_postings_without_an_invoice(db):
    ledger = LedgerFactory()
    journal_book(
        ledger=ledger,
        kind=TransactionKind.FEE,
        booking_date=date(2026, 2, 1),
        actor="test",
        lines=[
            Line(role=AccountRole.RECEIVABLE_CAPITAL, amount=Decimal("10.00")),
            Line(role=AccountRole.INVOICE_CLEARING, amount=Decimal("-10.00")),
        ],
    )
    code, out = run("verify_ledger", "--ledger", ledger.company_no)
    assert code == 1
    failed = {c["check"]: c for c in out["checks"] if not c["ok"]}
    assert list(failed) == ["receivables_equal_open_items"]
    assert failed["receivables_equal_open_items"]["discrepancies"][0]["postings_without_invoice"] == 1


def book_payment(ledger, *, status, to_suspense=True):
    payment = Payment.objects.create(
        ledger=ledger,
        bank_archive_ref=f"ARC-{status}",
        amount=Decimal("50.00"),
        currency=ledger.currency,
        booking_date=date(2026, 2, 1),
        value_date=date(2026, 2, 1),
        status=status,
    )
    other = AccountRole.SUSPENSE if to_suspense else AccountRole.CUSTOMER_CREDIT
    journal_book(
        ledger=ledger,
        kind=TransactionKind.PAYMENT,
        booking_date=date(2026, 2, 1),
        actor="test",
        payment_id=payment.id,
        lines=[
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("50.00"), payment_id=payment.id),
            Line(role=other, amount=Decimal("-50.00"), payment_id=payment.id),
        ],
    )
    return payment


def test_verify_ledger_accepts_suspense_that_equals_unidentified_payments(db):
    ledger = LedgerFactory()
    book_payment(ledger, status=Payment.Status.UNIDENTIFIED)
    code, out = run("verify_ledger", "--ledger", ledger.company_no)
    assert (code, out["ok"]) == (0, True)


def test_verify_ledger_finds_suspense_money_of_an_allocated_payment(db):
    ledger = LedgerFactory()
    book_payment(ledger, status=Payment.Status.ALLOCATED)
    code, out = run("verify_ledger", "--ledger", ledger.company_no)
    assert code == 1
    failed = {c["check"]: c for c in out["checks"] if not c["ok"]}
    assert failed["suspense_equals_unallocated_payments"]["discrepancies"] == [
        {"payment": "ARC-allocated", "status": "allocated", "unallocated": "50.00"}
    ]


def test_verify_ledger_finds_unidentified_payment_missing_from_suspense(db):
    ledger = LedgerFactory()
    book_payment(ledger, status=Payment.Status.UNIDENTIFIED, to_suspense=False)
    code, out = run("verify_ledger", "--ledger", ledger.company_no)
    assert code == 1
    # The planted credit posting has no customer either, which the credit-balance check also finds.
    assert [c["check"] for c in out["checks"] if not c["ok"]] == [
        "suspense_equals_unallocated_payments",
        "customer_credit_equals_surplus",
    ]
