"""Two distribution workers at once: each document is claimed by one of them and sent once."""

import threading
from datetime import date

from django.core import mail
from django.db import connection

from distribution.models import Document, DocumentEvent
from distribution.services import sending as services  # what distribution runs with
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory, LedgerFactory

DAY = date(2026, 2, 20)


def test_two_workers_share_the_documents_and_send_each_once(transactional_db, data_dir, monkeypatch):
    ledger = LedgerFactory(country="NO")
    requests = []
    for n in range(6):
        customer = CustomerFactory(ledger=ledger, email=f"c{n}@example.no")
        invoice = make_invoice(ledger, customer=customer)
        requests.append(DocumentRequest(ledger.id, customer.id, invoice.id, "reminder", DAY, f"r{n}", {}))
    documents_queue(requests=requests)
    # Claim one at a time and make sending slow, so both workers are busy at the same time.
    monkeypatch.setattr(services, "CLAIM_BATCH", 1)
    both_running = threading.Barrier(2, timeout=30)
    real_send = services.email_send

    def slow_send(document, **kwargs):
        try:
            both_running.wait()
        except threading.BrokenBarrierError:
            pass  # the other worker has run out of documents
        return real_send(document, **kwargs)

    monkeypatch.setattr(services, "email_send", slow_send)
    results, errors = {}, []

    def worker(name):
        try:
            results[name] = documents_distribute(as_of=DAY, ledger=ledger)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results["a"]["documents"] + results["b"]["documents"] == 6
    assert results["a"]["documents"] > 0 and results["b"]["documents"] > 0
    assert set(Document.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"c{n}@example.no" for n in range(6))
    assert DocumentEvent.objects.filter(to_status="sent").count() == 6
    assert DocumentEvent.objects.filter(to_status="processing").count() == 6


def test_a_claim_left_by_a_dead_worker_is_taken_over(transactional_db, data_dir, settings):
    ledger = LedgerFactory(country="NO")
    customer = CustomerFactory(ledger=ledger, email="k@example.no")
    invoice = make_invoice(ledger, customer=customer)
    documents_queue(requests=[DocumentRequest(ledger.id, customer.id, invoice.id, "reminder", DAY, "r", {})])
    # A worker claimed it and died.
    assert services._claim(as_of=DAY, ledger=None, run_started=None, limit=10) == [Document.objects.get().pk]
    assert documents_distribute(as_of=DAY)["documents"] == 0  # still fresh: left alone
    settings.DOCUMENT_CLAIM_STALE_SECONDS = 0
    assert documents_distribute(as_of=DAY)["documents"] == 1
    assert Document.objects.get().status == "sent" and len(mail.outbox) == 1
    assert DocumentEvent.objects.filter(reason="taken over from a stalled worker").count() == 1
