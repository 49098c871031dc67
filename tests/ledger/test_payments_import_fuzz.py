"""Fuzzing the whole payment import (issue 29): a real OCR Giro file paying open invoices, mutated (see
test_bankfiles_fuzz.py), goes through `payments_import` against the database. Each is accepted with the
journal in balance and every check of verify_ledger ok, found a duplicate, or rejected with a coded error
and nothing booked; never an exception. Each example runs in a savepoint rolled back after it."""

from decimal import Decimal

from django.db import transaction
from hypothesis import given, settings

from ledger.models import JournalTransaction, Payment
from ledger.payments.bank_import import payments_import
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_bankfiles_fuzz import EXAMPLES, FUZZ_SETTINGS, mutated
from tests.ledger.test_payments_import import assert_verified, ledger_with_account, ocr_file, pay, stray_kid


def test_a_mutated_payment_file_is_booked_whole_or_refused_with_nothing_booked(db):
    ledger = ledger_with_account()
    invoices = [InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("1000.00")) for _ in range(3)]
    seed = ocr_file(
        [pay(invoices[0].payment_ref, "1000.00", "000000101"), pay(invoices[1].payment_ref, "400.00", "000000102"),
         pay(invoices[2].payment_ref, "1100.00", "000000103"), pay(stray_kid(), "55.50", "000000104")]
    )  # fmt: skip
    with transaction.atomic():
        assert payments_import(data=seed, file_name="seed.txt")["payments"] == 4  # the seed itself books
        transaction.set_rollback(True)
    booked_before = (Payment.objects.count(), JournalTransaction.objects.count())

    @settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 12, 12))  # each one a whole import
    @given(data=mutated([seed]))
    def check(data):
        with transaction.atomic():
            summary = payments_import(data=data, file_name="mutated.txt")
            booked = (Payment.objects.count(), JournalTransaction.objects.count())
            if summary["status"] == "rejected":
                assert summary["errors"] and all(e["code"] and e["message"] for e in summary["errors"]), summary
                assert booked == booked_before, summary
            elif summary["status"] == "duplicate":
                assert booked == booked_before, summary
            else:
                assert summary["status"] == "accepted", summary
                assert booked[0] == booked_before[0] + summary["payments"], summary
                assert_verified(ledger)
            transaction.set_rollback(True)

    check()
