"""Approved Autogiro and Betalingsservice debits: booked from the bank's result file, reconciled by the
bank's line for the money when it arrives in a payment file, never booked twice."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction
from django.db.models import Sum

from accounting.reports.catalogue import report_query
from accounting.reports.core import report_run
from ledger.models import (
    AccountRole,
    DebitAgreementFile,
    DirectDebitAttempt,
    InvoiceEvent,
    Payment,
    PaymentFile,
    Posting,
)
from ledger.payments.bankfiles import betalingsservice
from ledger.payments.bankfiles.write import PaymentSpec, write_bgmax
from ledger.payments.direct_debit import scheme_files
from ledger.payments.direct_debit.claims import debit_claims_send
from ledger.payments.direct_debit.selectors import invoices_in_direct_debit
from ledger.services.invoice_changes import invoice_credit
from tests.factories import CustomerFactory, LedgerFactory
from tests.ledger.test_direct_debit import invoice
from tests.ledger.test_direct_debit_schemes import BANKGIRO, DAY, import_file, results_file, sven
from tests.ledger.test_payments_import import assert_verified, book, failed_checks

DEBIT_DAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    settings.BANKGIROT_CUSTOMER_NUMBER = "123456"
    settings.NETS_BS_CVR, settings.NETS_BS_PBS_NO = "12345678", "87654321"


@pytest.fixture
def swedish(db):
    return LedgerFactory(country="SE", client_funds_account=BANKGIRO, name="Inkasso Syd AB")


@pytest.fixture
def danish(db):
    return LedgerFactory(country="DK", name="Inkasso Danmark ApS")


def client_funds(ledger) -> Decimal:
    return Posting.objects.filter(ledger=ledger, account__role=AccountRole.CLIENT_FUNDS_BANK).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0.00")


def money_arrives(inv, amount, archive_ref, name="bgmax.txt", day=date(2026, 3, 11), created=None):
    """Bankgirot's deposit of the debited money on the ledger's bankgiro, with the debit's reference
    (the line's archive reference: payment date, deposit serial and BGC serial number)."""
    data = write_bgmax(
        [PaymentSpec(inv.payment_ref, Decimal(amount), archive_ref=archive_ref)],
        receiving_bankgiro="50501055",
        payment_date=day,
        created=created,
    )
    return book(data, name=name)


def test_an_approved_autogiro_debit_is_booked_from_the_result_and_reconciled_when_the_money_arrives(swedish):
    inv = invoice(sven(swedish), DEBIT_DAY, "500.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")

    summary = import_file(
        results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")]), name="betspec.txt", day=DEBIT_DAY
    )
    assert (summary["status"], summary["approved"], summary["booked"]["payments"]) == ("accepted", 1, 1)
    attempt = DirectDebitAttempt.objects.get(invoice=inv)
    payment = attempt.payment
    assert (attempt.status, attempt.bank_outcome, attempt.settled_on, attempt.reconciled_on) == (
        "paid",
        "approved",
        DEBIT_DAY,
        None,
    )
    assert (payment.bank_archive_ref, payment.amount, payment.value_date, payment.outcome) == (
        f"DD-{attempt.pk}",
        Decimal("500.00"),
        DEBIT_DAY,
        "exact",
    )
    assert (payment.file.file_name, payment.file.format, payment.file.summary["payments"]) == (
        "betspec.txt",
        "autogiro",
        1,
    )
    inv.refresh_from_db()
    assert inv.status == "closed"
    assert client_funds(swedish) == Decimal("500.00")
    assert list(invoices_in_direct_debit(ledger=swedish)) == []
    assert InvoiceEvent.objects.filter(invoice=inv, kind="paid").count() == 1
    assert_verified(swedish)

    # the result read again in another file books nothing more
    again = import_file(
        results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")], day=date(2026, 3, 11)), name="betspec-2.txt"
    )
    assert (again["approved"], again["unchanged"], again["booked"]) == (0, 1, None)

    awaiting = report_run(report_query(ledger=swedish, name="debits_awaiting_money", as_of=date(2026, 3, 11)))
    assert [row[1:] for row in awaiting.rows] == [
        (DEBIT_DAY, inv.invoice_no, inv.customer.customer_no, "Sven Svensson", f"DD-{attempt.pk}",
         Decimal("500.00"), 1)
    ]  # fmt: skip

    # the bank's line for the money reconciles the debit: not booked a second time
    arrived = money_arrives(inv, "500.00", archive_ref="4711")
    assert (arrived["status"], arrived["payments"], arrived["debits_reconciled"]) == ("accepted", 0, 1)
    attempt.refresh_from_db()
    assert (attempt.reconciled_on, attempt.reconciled_ref, attempt.reconciled_file_id) == (
        date(2026, 3, 11),
        "20260311-00001-000000004711",
        arrived["payment_file"],
    )
    assert Payment.objects.filter(ledger=swedish).count() == 1
    assert client_funds(swedish) == Decimal("500.00")
    assert (
        report_run(report_query(ledger=swedish, name="debits_awaiting_money", as_of=date(2026, 3, 11))).rows
        == []
    )
    # as of the day before the money came, it was still awaited
    assert (
        len(report_run(report_query(ledger=swedish, name="debits_awaiting_money", as_of=DEBIT_DAY)).rows) == 1
    )

    # the same line in another file (written again later) is known: skipped, not booked
    later = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
    repeated = money_arrives(inv, "500.00", archive_ref="4711", name="bgmax-again.txt", created=later)
    assert (repeated["payments"], repeated["duplicates_skipped"], repeated["debits_reconciled"]) == (0, 1, 0)

    # another line with the same reference is new money: the customer's credit balance
    more = money_arrives(inv, "500.00", archive_ref="4712", name="bgmax-more.txt", day=date(2026, 3, 13))
    assert (more["payments"], more["double_paid"], more["debits_reconciled"]) == (1, 1, 0)
    assert client_funds(swedish) == Decimal("1000.00")
    assert_verified(swedish)


def test_a_line_of_another_amount_is_not_the_debits_money(swedish):
    inv = invoice(sven(swedish), DEBIT_DAY, "500.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    import_file(results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")]), name="betspec.txt", day=DEBIT_DAY)

    other = money_arrives(inv, "50.00", archive_ref="4711")
    assert (other["payments"], other["double_paid"], other["debits_reconciled"]) == (1, 1, 0)
    assert DirectDebitAttempt.objects.get(invoice=inv).reconciled_on is None
    assert_verified(swedish)


def test_an_approved_betalingsservice_debit_on_an_invoice_credited_meanwhile_becomes_a_credit_balance(danish):
    jens = CustomerFactory(ledger=danish, customer_no="4711", name="Jens Jensen")
    agreements = betalingsservice.information_delivery(
        cvr="12345678", pbs_no="87654321", debtor_group="00001", day=DAY,
        agreements=[("0231", "4711", "123456789")],
    )  # fmt: skip
    import_file(agreements, name="bs-agreements.txt", company_no=danish.company_no)
    inv = invoice(jens, DEBIT_DAY, "499.95")
    debit_claims_send(ledger=danish, as_of=DAY, actor="ops")
    # Betalingsservice claims cannot be cancelled: the credit note does not stop the debit
    invoice_credit(invoice=inv, actor="ops", booking_date=DAY)

    results = betalingsservice.information_delivery(
        cvr="12345678", pbs_no="87654321", debtor_group="00001", day=DEBIT_DAY,
        payments=[("0236", betalingsservice.Collection(customer_no="4711", agreement_no="", amount=Decimal("499.95"),
                                                      debit_date=DEBIT_DAY, reference=inv.payment_ref))],
    )  # fmt: skip
    summary = import_file(results, name="bs-results.txt", company_no=danish.company_no, day=DEBIT_DAY)
    assert (summary["approved"], summary["booked"]["total_amount"]) == (1, "499.95")
    payment = DirectDebitAttempt.objects.get(invoice=inv).payment
    assert (payment.outcome, payment.file.format) == ("double", "betalingsservice")
    credit = Posting.objects.filter(ledger=danish, account__role=AccountRole.CUSTOMER_CREDIT)
    assert credit.aggregate(s=Sum("amount"))["s"] == Decimal("-499.95")
    assert_verified(danish)


def test_a_failure_while_booking_the_approved_debits_leaves_nothing_written(swedish, monkeypatch):
    inv = invoice(sven(swedish), DEBIT_DAY, "500.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    monkeypatch.setattr(scheme_files, "_BOOKED_SQL", "SELECT 1 / 0")
    with pytest.raises(DataError):
        import_file(results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")]), name="b.txt", day=DEBIT_DAY)
    attempt = DirectDebitAttempt.objects.get(invoice=inv)
    assert (attempt.status, attempt.bank_outcome, attempt.payment_id) == ("sent", "", None)
    assert not Payment.objects.filter(ledger=swedish).exists()
    assert not PaymentFile.objects.filter(ledger=swedish).exists()
    assert not DebitAgreementFile.objects.filter(file_name="b.txt").exists()
    assert client_funds(swedish) == Decimal("0.00")


def test_the_database_keeps_a_booked_debit_paid_and_a_reconciliation_whole(swedish):
    customer = sven(swedish)
    inv, other = invoice(customer, DEBIT_DAY, "500.00"), invoice(customer, DEBIT_DAY, "200.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    import_file(results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")]), name="betspec.txt", day=DEBIT_DAY)
    booked = DirectDebitAttempt.objects.get(invoice=inv)
    sent = DirectDebitAttempt.objects.get(invoice=other)

    with pytest.raises(IntegrityError, match="debit_attempt_booked_is_paid"), transaction.atomic():
        DirectDebitAttempt.objects.filter(pk=sent.pk).update(payment=booked.payment)
    with pytest.raises(IntegrityError, match="debit_attempt_reconciled_whole"), transaction.atomic():
        DirectDebitAttempt.objects.filter(pk=booked.pk).update(reconciled_on=DEBIT_DAY)


def test_verify_ledger_names_a_booked_debit_that_is_not_its_payment(swedish):
    inv = invoice(sven(swedish), DEBIT_DAY, "500.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    import_file(results_file([(inv, Decimal("500.00"), DEBIT_DAY, "0")]), name="betspec.txt", day=DEBIT_DAY)
    assert_verified(swedish)
    attempt = DirectDebitAttempt.objects.get(invoice=inv)
    DirectDebitAttempt.objects.filter(pk=attempt.pk).update(amount=Decimal("499.00"))  # edited by hand
    (problem,) = failed_checks(swedish)["booked_debits_equal_payments"]["discrepancies"]
    assert (problem["invoice"], problem["amount"], problem["payment_amount"], problem["problem"]) == (
        inv.invoice_no,
        "499.00",
        "500.00",
        "amounts differ",
    )
