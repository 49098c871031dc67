"""Two requests with the same Idempotency-Key at the same time: the second waits for the first and
replays its answer; the credit is booked once. Real commits (transactional_db), two threads."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from api.endpoints import invoice_actions as ledger_api  # where the credit endpoint calls the service
from ledger.models import JournalTransaction, TransactionKind
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

from .conftest import client_with, token_for


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_book_once(monkeypatch):
    ledger = LedgerFactory(company_no="7777", ledger_no="54321")
    InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_no="A-1", amount=Decimal("1000.00"))
    secret = token_for(ledger, write=True)
    first_inside, release = threading.Event(), threading.Event()
    real_credit = ledger_api.invoice_credit

    def slow_credit(**kwargs):
        if threading.current_thread().name == "first":
            first_inside.set()
            release.wait(10)
        return real_credit(**kwargs)

    monkeypatch.setattr(ledger_api, "invoice_credit", slow_credit)
    responses = {}

    def call():
        try:
            responses[threading.current_thread().name] = client_with(secret).post(
                "/api/v1/ledgers/7777/invoices/A-1/credit/",
                {"amount": "100.00"},
                format="json",
                headers={"Idempotency-Key": "same"},
            )
        finally:
            connection.close()

    first = threading.Thread(target=call, name="first")
    second = threading.Thread(target=call, name="second")
    first.start()
    assert first_inside.wait(10)
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # waiting for the first request's key
    release.set()
    first.join(10)
    second.join(10)
    assert responses["first"].status_code == responses["second"].status_code == 200
    assert responses["second"]["Idempotent-Replayed"] == "true"
    assert responses["second"].json() == responses["first"].json()
    assert JournalTransaction.objects.filter(kind=TransactionKind.CREDIT).count() == 1
