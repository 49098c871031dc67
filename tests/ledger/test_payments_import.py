"""Bank files in: import_payments, idempotency, finding the ledger, rejection, the real samples,
and the bank-files reconciliation check. Matching and allocation: test_payment_allocation.py.

Past 500 lines: one service (payments_import) and its file helpers, which other tests import.
"""

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from ledger import references
from ledger.models import (
    AccountRole,
    JournalTransaction,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    Posting,
    TransactionKind,
)
from ledger.payments.bank_import import payments_import
from ledger.payments.bankfiles.write import PaymentSpec, write_bgmax, write_camt054, write_ocr_giro
from ledger.payments.selectors import unidentified_payments
from ledger.services.journal import Line, journal_book
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import SAMPLES

ACCOUNT = "15030000002"
PAY_DAY = date(2026, 3, 2)


# --- helpers (also used by the other payment test modules) ------------------------------------------


def ledger_with_account(account: str = ACCOUNT, **kwargs):
    return LedgerFactory(client_funds_account=account, **kwargs)


def ocr_file(payments, *, account: str = ACCOUNT, day: date = PAY_DAY, number: str = "0000001") -> bytes:
    """An OCR Giro file; give each payment a distinct 9-digit archive_ref across files."""
    return write_ocr_giro(
        payments,
        receiving_account=account,
        nets_date=day,
        transmission_number=number,
        assignment_number=number,
    )


def pay(reference: str, amount: str, archive_ref: str, payer_account: str = "12345678903") -> PaymentSpec:
    return PaymentSpec(
        reference=reference, amount=Decimal(amount), archive_ref=archive_ref, payer_account=payer_account
    )


def stray_kid(serial: int = 1) -> str:
    """A KID with a valid check digit that no invoice has (no customer 9999999 exists)."""
    return references.kid_generate(customer_no="9999999", serial=serial)


def book(data: bytes, name: str = "ocr.txt", **kwargs) -> dict:
    return payments_import(data=data, file_name=name, **kwargs)


def assert_verified(*ledgers):
    for ledger in ledgers:
        failed = [c for c in ledger_verify(ledger=ledger) if not c["ok"]]
        assert failed == [], failed


def failed_checks(ledger) -> dict:
    return {c["check"]: c for c in ledger_verify(ledger=ledger) if not c["ok"]}


def account_balance(ledger, role) -> Decimal:
    return Posting.objects.filter(ledger=ledger, account__role=role).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal("0.00")


def run(*args):
    out = StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def nothing_booked(ledger):
    assert not Payment.objects.filter(ledger=ledger).exists()
    assert not JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.PAYMENT).exists()


# --- the command and its JSON ---------------------------------------------------------------------


def test_import_payments_command_prints_the_summary(db, tmp_path):
    ledger = ledger_with_account()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00"))
    path = tmp_path / "ocr-0001.txt"
    path.write_bytes(
        ocr_file(
            [
                pay(invoice.payment_ref, "400.00", "000000001"),
                pay(stray_kid(1), "99.95", "000000002"),
            ]
        )
    )
    code, out = run("import_payments", str(path))
    assert code == 0
    assert {k: out[k] for k in ("file", "format", "status", "ledger", "payments", "total_amount")} == {
        "file": "ocr-0001.txt",
        "format": "ocr_giro",
        "status": "accepted",
        "ledger": ledger.company_no,
        "payments": 2,
        "total_amount": "499.95",
    }
    assert (out["matched"], out["partially_paid"], out["overpaid"], out["unidentified"]) == (0, 1, 0, 1)
    assert (out["duplicates_skipped"], out["errors"]) == (0, [])
    assert out["booked_by_date"] == {"2026-03-02": "499.95"}
    row = PaymentFile.objects.get(pk=out["payment_file"])
    assert (row.status, row.format, row.size, len(row.digest)) == (
        "accepted",
        "ocr_giro",
        path.stat().st_size,
        64,
    )
    assert row.summary["payments"] == 2
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("499.95")
    assert_verified(ledger)


def test_import_payments_command_exits_1_when_rejected(db, tmp_path):
    ledger_with_account()
    path = tmp_path / "elsewhere.txt"
    path.write_bytes(ocr_file([pay(stray_kid(2), "10.00", "000000001")], account="99998877665"))
    code, out = run("import_payments", str(path))
    assert code == 1
    assert out["status"] == "rejected"
    assert out["errors"][0]["code"] == "unknown_account"
    assert "99998877665" in out["errors"][0]["message"]
    code, out = run("import_payments", str(tmp_path / "missing.txt"))
    assert (code, out["error"]["code"]) == (1, "usage")


# --- idempotency ----------------------------------------------------------------------------------


def test_the_same_file_twice_books_nothing_the_second_time(db):
    ledger = ledger_with_account()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00"))
    data = ocr_file(
        [pay(invoice.payment_ref, "1000.00", "000000011"), pay(stray_kid(3), "5.00", "000000012")]
    )
    first = book(data)
    second = book(data, name="ocr-again.txt")

    assert first["status"] == "accepted" and first["payments"] == 2
    assert second["status"] == "duplicate"
    assert (second["payments"], second["duplicates_skipped"], second["total_amount"]) == (0, 2, "0.00")
    assert second["duplicate_of"] == {"payment_file": first["payment_file"], "file": "ocr.txt"}
    assert Payment.objects.filter(ledger=ledger).count() == 2
    assert JournalTransaction.objects.filter(ledger=ledger, kind=TransactionKind.PAYMENT).count() == 2
    assert sorted(PaymentFile.objects.filter(ledger=ledger).values_list("status", flat=True)) == [
        "accepted",
        "duplicate",
    ]
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("1005.00")
    assert_verified(ledger)


def test_a_payment_already_booked_by_another_file_is_skipped(db):
    ledger = ledger_with_account()
    book(ocr_file([pay(stray_kid(4), "10.00", "000000021")], number="0000001"))
    out = book(
        ocr_file(
            [pay(stray_kid(5), "10.00", "000000021"), pay(stray_kid(6), "20.00", "000000022")],
            number="0000001",
        ),
        name="overlap.txt",
    )
    assert out["status"] == "accepted"
    assert (out["payments"], out["duplicates_skipped"], out["total_amount"]) == (1, 1, "20.00")
    assert sorted(Payment.objects.filter(ledger=ledger).values_list("amount", flat=True)) == [
        Decimal("10.00"),
        Decimal("20.00"),
    ]
    assert_verified(ledger)


# --- which ledger ---------------------------------------------------------------------------------


def test_ledger_is_found_by_receiving_account_however_it_was_written(db):
    ledger = ledger_with_account("9999.10.42764")
    other = ledger_with_account("1503 00 00010")
    out = book(ocr_file([pay(stray_kid(7), "10.00", "000000031")], account="99991042764"))
    assert (out["status"], out["ledger"]) == ("accepted", ledger.company_no)
    assert Payment.objects.get().ledger == ledger
    assert not Payment.objects.filter(ledger=other).exists()


def test_ledger_given_overrides_an_unknown_account(db):
    ledger = LedgerFactory()  # no client-funds account configured
    data = ocr_file([pay(stray_kid(8), "10.00", "000000041")], account="12121212121")
    assert book(data)["errors"][0]["code"] == "unknown_account"
    out = book(data, company_no=ledger.company_no)
    assert (out["status"], out["ledger"], out["payments"]) == ("accepted", ledger.company_no, 1)
    assert_verified(ledger)


def test_ledger_given_must_not_contradict_the_account_of_another_ledger(db):
    owner = ledger_with_account()
    other = LedgerFactory()
    out = book(ocr_file([pay(stray_kid(9), "10.00", "000000051")]), company_no=other.company_no)
    assert out["status"] == "rejected"
    assert out["errors"][0]["code"] == "account_of_another_ledger"
    assert owner.company_no in out["errors"][0]["message"]
    nothing_booked(owner)
    nothing_booked(other)
    out = book(ocr_file([pay(stray_kid(10), "10.00", "000000051")]), company_no="424242")
    assert out["errors"][0]["code"] == "ledger_not_found"


def test_unknown_account_is_rejected_whole_and_kept_on_record(db):
    ledger = ledger_with_account()
    out = book(ocr_file([pay(stray_kid(11), "10.00", "000000061")], account="99998877665"), name="stray.txt")
    assert out["status"] == "rejected"
    assert out["errors"] == [
        {
            "code": "unknown_account",
            "message": "no ledger has the receiving account 99998877665 as its client-funds account; "
            "set it with create_ledger --account, or give --ledger",
        }
    ]
    nothing_booked(ledger)
    row = PaymentFile.objects.get()
    assert (row.status, row.ledger, row.file_name) == ("rejected", None, "stray.txt")


# --- rejected whole -------------------------------------------------------------------------------


def test_tampered_control_total_rejects_the_whole_file(db):
    ledger = ledger_with_account()
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00"))
    data = ocr_file(
        [pay(invoice.payment_ref, "1000.00", "000000071"), pay(stray_kid(12), "5.00", "000000072")]
    )
    assert b"00000000000100500" in data  # the transmission and assignment totals, in øre
    tampered = data.replace(b"00000000000100500", b"00000000000100600")
    out = book(tampered)
    assert out["status"] == "rejected"
    assert out["errors"][0]["code"] == "control_total_mismatch"
    assert "line" in out["errors"][0]
    nothing_booked(ledger)
    # Once repaired, the same content books: a rejected file does not block it.
    assert book(data)["status"] == "accepted"
    assert_verified(ledger)


def test_tampered_bgmax_deposit_total_rejects_the_whole_file(db):
    ledger = ledger_with_account("9912346", country="SE")
    data = write_bgmax(
        [("", Decimal("100.00")), ("", Decimal("200.00"))], receiving_bankgiro="9912346", payment_date=PAY_DAY
    )
    tampered = data.replace(b"000000000000030000SEK", b"000000000000030100SEK")
    assert tampered != data
    out = book(tampered, name="bgmax.txt")
    assert (out["status"], out["errors"][0]["code"]) == ("rejected", "control_total_mismatch")
    nothing_booked(ledger)


def test_bgmax_test_file_is_not_booked(db):
    ledger = ledger_with_account("9912346", country="SE")
    data = write_bgmax(
        [("", Decimal("100.00"))], receiving_bankgiro="9912346", payment_date=PAY_DAY, test=True
    )
    out = book(data, name="bgmax-test.txt")
    assert (out["status"], out["errors"][0]["code"]) == ("rejected", "test_file")
    nothing_booked(ledger)


def test_not_a_bank_file_is_rejected(db):
    out = book(b"hello world\n", name="notes.txt")
    assert (out["status"], out["format"], out["errors"][0]["code"]) == ("rejected", "", "unknown_format")


# --- the real samples -----------------------------------------------------------------------------


def sample(name: str) -> bytes:
    path = SAMPLES / name
    assert path.is_file(), f"missing sample {path}"
    return path.read_bytes()


def test_ocr_giro_sample_books_20_unidentified_payments(db):
    ledger = ledger_with_account("99991042764")
    out = book(sample("ocr-giro/ocr_giro_transactions.txt"), name="ocr_giro_transactions.txt")
    assert (out["status"], out["format"], out["payments"], out["unidentified"]) == (
        "accepted",
        "ocr_giro",
        20,
        20,
    )
    assert out["total_amount"] == "51449.00"
    assert out["booked_by_date"] == {"1992-01-20": "51449.00"}
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("51449.00")
    assert account_balance(ledger, AccountRole.SUSPENSE) == Decimal("-51449.00")
    worklist = list(unidentified_payments(ledger=ledger))
    assert len(worklist) == 20
    assert sum(p.unallocated for p in worklist) == Decimal("51449.00")
    assert all(p.match_detail for p in worklist)
    assert_verified(ledger)


def test_bgmax_sample_books_its_sek_payments_and_lists_the_eur_ones(db):
    ledger = ledger_with_account("991-2346", country="SE")
    out = book(sample("bgmax/BgMaxfil4.txt"), name="BgMaxfil4.txt")
    assert (out["status"], out["format"], out["ledger"]) == ("accepted", "bgmax", ledger.company_no)
    assert (out["payments"], out["total_amount"], out["unidentified"]) == (7, "8600.00", 7)
    assert [e["code"] for e in out["errors"]] == ["currency_mismatch", "currency_mismatch"]
    assert out["not_booked"] == 2
    assert account_balance(ledger, AccountRole.CLIENT_FUNDS_BANK) == Decimal("8600.00")
    assert_verified(ledger)


def test_bgmax_sample_with_a_deduction_lists_it_as_not_booked(db):
    ledger = ledger_with_account("9912346", country="SE")
    name = "bgmax/bankgiroinbetalningar_exempelfil_avtal-om-ocr-kontroll_checksiffra_langd_sv.txt"
    out = book(sample(name), name="exempelfil.txt")
    assert out["status"] == "accepted"
    codes = sorted(e["code"] for e in out["errors"])
    assert codes == ["currency_mismatch", "currency_mismatch", "not_a_payment"]
    # SEK 9,900.00 = 10,400.00 of payments less the 500.00 deduction, which is not booked.
    assert (out["payments"], out["total_amount"]) == (6, "10400.00")
    assert_verified(ledger)


def test_camt054_sample_books_into_the_eur_ledger(db):
    ledger = ledger_with_account("NL77 ABNA 0574 9087 65", country="FI")
    out = book(sample("camt054/test-camt054.xml"), name="test-camt054.xml")
    assert (out["status"], out["format"], out["payments"], out["total_amount"]) == (
        "accepted",
        "camt054",
        1,
        "5.00",
    )
    payment = Payment.objects.get(ledger=ledger)
    assert (payment.currency, payment.payer_name, payment.payer_account) == (
        "EUR",
        "Test Customer",
        "NL46ABNA0499998748",
    )
    assert payment.status == Payment.Status.UNIDENTIFIED
    assert_verified(ledger)


def test_camt054_written_file_matches_an_invoice(db):
    ledger = ledger_with_account("FI2112345600000785", country="FI")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("80.10"))
    data = write_camt054(
        [PaymentSpec(invoice.payment_ref, Decimal("80.10"), payer_name="Matti", archive_ref="A-1")],
        receiving_account="FI2112345600000785",
        booking_date=PAY_DAY,
    )
    out = book(data, name="camt.xml")
    assert (out["matched"], out["payments"]) == (1, 1)
    assert_verified(ledger)


# --- reconciliation: the bank files ---------------------------------------------------------------


def test_verify_finds_money_in_that_no_bank_file_brought(db):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    book(ocr_file([pay(stray_kid(13), "10.00", "000000081")]))
    assert_verified(ledger)
    journal_book(
        ledger=ledger,
        kind=TransactionKind.PAYMENT,
        booking_date=PAY_DAY,
        actor="test",
        lines=[
            Line(role=AccountRole.CLIENT_FUNDS_BANK, amount=Decimal("7.00")),
            Line(role=AccountRole.CUSTOMER_CREDIT, amount=Decimal("-7.00"), customer=customer),
        ],
    )
    failed = failed_checks(ledger)
    assert list(failed) == ["bank_in_equals_bank_files"]
    assert failed["bank_in_equals_bank_files"]["discrepancies"] == [
        {"booking_date": "2026-03-02", "journal": "17.00", "bank_files": "10.00"}
    ]


def test_verify_finds_a_payment_whose_amount_differs_from_what_it_brought(db):
    ledger = ledger_with_account()
    book(ocr_file([pay(stray_kid(14), "10.00", "000000091")]))
    Payment.objects.filter(ledger=ledger).update(amount=Decimal("11.00"))
    failed = failed_checks(ledger)
    assert list(failed) == ["bank_in_equals_bank_files"]
    assert failed["bank_in_equals_bank_files"]["discrepancies"] == [
        {"payment": "000000091-0000001-0000001", "amount": "11.00", "booked_on_bank": "10.00"}
    ]


def test_verify_finds_a_file_summary_that_disagrees_with_the_journal(db):
    ledger = ledger_with_account()
    out = book(ocr_file([pay(stray_kid(15), "10.00", "000000101")]))
    row = PaymentFile.objects.get(pk=out["payment_file"])
    PaymentFile.objects.filter(pk=row.pk).update(
        summary={**row.summary, "booked_by_date": {"2026-03-02": "9.00"}}
    )
    assert list(failed_checks(ledger)) == ["bank_in_equals_bank_files"]


@pytest.mark.parametrize("status", [PaymentFileStatus.REJECTED, PaymentFileStatus.DUPLICATE])
def test_only_accepted_files_count_as_bank_files(db, status):
    ledger = ledger_with_account()
    out = book(ocr_file([pay(stray_kid(16), "10.00", "000000111")]))
    row = PaymentFile.objects.get(pk=out["payment_file"])
    PaymentFile.objects.create(
        ledger=ledger,
        file_name="x",
        format="ocr_giro",
        digest=row.digest,
        size=1,
        status=status,
        summary=row.summary,
        actor="test",
    )
    assert_verified(ledger)


# --- matching is set-based ------------------------------------------------------------------------


def _plan_queries(ledger, specs) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.payments.bankfiles import parse_bank_file
    from ledger.payments.matching import _plan

    payments = parse_bank_file(ocr_file(specs)).payments
    with CaptureQueriesContext(connection) as ctx:
        plans = _plan(ledger, payments)
    assert len(plans) == len(specs)
    return len(ctx.captured_queries)


def test_matching_a_file_takes_the_same_few_queries_whatever_its_size(db):
    ledger = ledger_with_account()
    LedgerFactory()  # another ledger, so misdirected references are looked up too
    customers = [CustomerFactory(ledger=ledger) for _ in range(3)]
    invoices = [
        InvoiceFactory(
            customer=customers[n % 3],
            amount=Decimal("100.00"),
            invoice_date=date(2025, 10, 1) + timedelta(days=n),
        )
        for n in range(60)
    ]

    def specs(count):  # exact, partial, overpaid (surplus to older invoices) and unidentified payments
        amounts = ["100.00", "40.00", "130.00"]
        out = [pay(invoices[n].payment_ref, amounts[n % 3], f"{n + 1:09d}") for n in range(count)]
        return out + [pay(stray_kid(n + 1), "5.00", f"{500 + n:09d}") for n in range(count)]

    # invoices by reference + balances, other ledgers' references, overdue invoices + balances
    assert _plan_queries(ledger, specs(3)) == _plan_queries(ledger, specs(30)) == 5


def test_matching_reads_balances_per_component_of_this_ledgers_invoices_only(db):
    from ledger.models import Invoice
    from ledger.payments.bankfiles import parse_bank_file
    from ledger.payments.matching import _plan
    from ledger.selectors import invoice_balance

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    paid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    fresh = InvoiceFactory(customer=customer, amount=Decimal("250.00"))
    book(ocr_file([pay(paid.payment_ref, "30.00", "000000001")]))

    plans = _plan(
        ledger,
        parse_bank_file(
            ocr_file(
                [pay(paid.payment_ref, "70.00", "000000002"), pay(fresh.payment_ref, "10.00", "000000003")],
                number="0000002",
            )
        ).payments,
    )
    assert [p.outcome for p in plans] == [Payment.Outcome.EXACT, Payment.Outcome.PARTIAL]
    for plan, invoice in zip(plans, (paid, fresh), strict=True):
        assert not isinstance(plan.item.invoice, Invoice)  # plain rows, no model instances
        assert plan.item.invoice.id == invoice.id
        assert plan.item.invoice.customer_id == customer.id
        assert plan.customer.id == customer.id
    assert plans[0].placed[0].settles and plans[0].item.closed
    assert plans[1].item.open_amount == invoice_balance(fresh).capital - Decimal("10.00")
    assert invoice_balance(paid).capital == Decimal("70.00")


# --- booking is set-based -------------------------------------------------------------------------


def test_booking_a_file_takes_the_same_few_queries_whatever_its_size(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(60)]

    def queries(first: int, count: int, number: str) -> int:
        # exact (closes the invoice), partial, overpaid and unidentified payments
        amounts = ["100.00", "40.00", "130.00"]
        specs = [
            pay(invoices[first + n].payment_ref, amounts[n % 3], f"{first + n + 1:09d}") for n in range(count)
        ]
        specs += [pay(stray_kid(first + n + 1), "5.00", f"{500 + first + n:09d}") for n in range(count)]
        with CaptureQueriesContext(connection) as ctx:
            out = book(ocr_file(specs, number=number), name=f"ocr-{number}.txt")
        assert (out["status"], out["payments"]) == ("accepted", 2 * count)
        return len(ctx.captured_queries)

    assert queries(0, 3, "0000001") == queries(3, 30, "0000002")
    assert_verified(ledger)


def test_a_file_of_many_payments_books_each_as_its_own_transaction(db):
    ledger = ledger_with_account()
    customers = [CustomerFactory(ledger=ledger) for _ in range(4)]
    invoices = [
        InvoiceFactory(customer=customers[n % 4], amount=Decimal("100.00") + n, invoice_date=PAY_DAY)
        for n in range(120)
    ]
    specs = []
    for n, invoice in enumerate(invoices):  # exact, partial, overpaid
        amount = invoice.amount if n % 3 == 0 else invoice.amount - 1 if n % 3 == 1 else invoice.amount + 1
        specs.append(pay(invoice.payment_ref, str(amount), f"{n + 1:09d}"))
    specs.append(pay(stray_kid(1), "7.00", "000000999"))
    out = book(ocr_file(specs))
    assert (out["matched"], out["partially_paid"], out["overpaid"], out["unidentified"]) == (40, 40, 40, 1)

    payments = {p.bank_archive_ref[:9]: p for p in Payment.objects.filter(ledger=ledger)}
    transactions = {t.payment_id: t for t in JournalTransaction.objects.filter(kind=TransactionKind.PAYMENT)}
    assert len(payments) == len(transactions) == 121
    for n, invoice in enumerate(invoices):
        payment = payments[f"{n + 1:09d}"]
        txn = transactions[payment.id]
        assert (payment.invoice_id, payment.customer_id, txn.invoice_id) == (
            invoice.id,
            invoice.customer_id,
            invoice.id,
        )
        assert txn.description == f"Payment {payment.bank_archive_ref} {invoice.payment_ref}"
        postings = list(Posting.objects.filter(transaction=txn))
        assert {p.payment_id for p in postings} == {payment.id}
        assert sum(p.amount for p in postings) == 0
        invoice.refresh_from_db()
        if n % 3 == 1:
            assert (invoice.status, invoice.closed_on) == ("open", None)
        else:
            assert (invoice.status, invoice.closed_on) == ("closed", PAY_DAY)
    assert payments["000000999"].status == Payment.Status.UNIDENTIFIED
    assert_verified(ledger)


def test_a_payment_that_cannot_be_booked_books_nothing_of_the_file(db):
    from ledger.errors import ValidationFailed
    from ledger.models import Account, Invoice

    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    paid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    overpaid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    # Accounts are never deleted: the ledger loses the role instead.
    Account.objects.filter(ledger=ledger, role=AccountRole.CUSTOMER_CREDIT).update(role="")
    data = ocr_file(
        [pay(paid.payment_ref, "100.00", "000000001"), pay(overpaid.payment_ref, "150.00", "000000002")]
    )
    with pytest.raises(ValidationFailed) as caught:
        book(data)
    assert caught.value.code == "account_missing"
    nothing_booked(ledger)
    assert not PaymentFile.objects.filter(ledger=ledger).exists()
    assert set(Invoice.objects.filter(ledger=ledger).values_list("status", flat=True)) == {"open"}
