"""A payment import holds its ledger for the whole import (one import per ledger at a time), but with
FOR NO KEY UPDATE: invoices registered meanwhile (the API, CUSIN, 360) insert rows whose foreign keys
name the ledger (FOR KEY SHARE), and those must not wait for the import. Measured in
bench_mixed_load.py --import-rate: with FOR UPDATE every registration queued behind a 23 s import and took
the server's threads with it."""

import threading
from decimal import Decimal

from django.db import connection

from ledger.models import ActionLogEntry, Invoice, Payment
from ledger.payments import bank_import
from tests.api.conftest import client_with, token_for
from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import book, ledger_with_account, ocr_file, pay


def test_an_invoice_is_registered_while_a_payment_import_holds_the_ledger(transactional_db, monkeypatch):
    ledger = ledger_with_account()
    customer = CustomerFactory(ledger=ledger)
    paid = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    inside, release = threading.Event(), threading.Event()
    book_rounds = bank_import._book_rounds

    def held_book_rounds(**kwargs):  # the import, paused inside its transaction, its ledger lock held
        book_rounds(**kwargs)
        inside.set()
        release.wait(30)

    monkeypatch.setattr(bank_import, "_book_rounds", held_book_rounds)
    result = {}

    def importer():
        try:
            result.update(book(ocr_file([pay(paid.payment_ref, "100.00", "000000001")])))
        finally:
            connection.close()

    thread = threading.Thread(target=importer)
    thread.start()
    try:
        assert inside.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # a wait for the import fails the request
        # Through the API: the registration and its action-log row (whose key names the ledger) commit.
        response = client_with(token_for(ledger, write=True)).post(
            f"/api/v1/ledgers/{ledger.company_no}/invoices/",
            {"customer_no": customer.customer_no, "invoice_no": "WHILE-IMPORT", "invoice_date": "2026-03-01",
             "amount": "250.00"},
            format="json",
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        thread.join(30)
    assert response.status_code == 201, response.content
    assert Invoice.objects.filter(ledger=ledger, invoice_no="WHILE-IMPORT").exists()
    assert ActionLogEntry.objects.filter(ledger=ledger, status=201).exists()
    assert (result["status"], result["matched"]) == ("accepted", 1)
    assert Payment.objects.filter(ledger=ledger).count() == 1
