"""The bank inbox (ledger/payments/inbox.py): a file whose import died with its worker, or failed on an
outage, stays claimed in processing/ and is imported again once the claim is stale: booked once, never
left behind, never back in the inbox."""

import os
import time
from decimal import Decimal

import pytest

from ledger.models import Payment
from ledger.payments import inbox
from ledger.payments.inbox import bank_dir, bank_inbox_scan
from ledger.verify import ledger_verify
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.ledger.test_payments_import import ACCOUNT, ocr_file, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(settings, tmp_path):
    """An invoice and the OCR file that pays it."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO", client_funds_account=ACCOUNT)
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), amount=Decimal("500.00"))
    return ledger, ocr_file([pay(invoice.payment_ref, "500.00", "000000001")])


def age(path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_claim_left_by_a_dead_worker_is_imported_once_it_is_stale(paid):
    ledger, data = paid
    claim = bank_dir("processing") / ("0" * 32)
    claim.mkdir()
    (claim / "ocr.txt").write_bytes(data)  # claimed by a worker that died before it imported anything

    assert bank_inbox_scan(stale_seconds=600) == {"files": []}  # a live claim is left alone
    age(claim, 601)
    summary = bank_inbox_scan(stale_seconds=600)

    assert summary["files"] == [{"file": "ocr.txt", "status": "accepted", "payments": 1, "ledger": ledger.company_no}]
    assert (bank_dir("archive") / "ocr.txt").read_bytes() == data
    assert list(bank_dir("processing").iterdir()) == []
    assert Payment.objects.filter(ledger=ledger).count() == 1
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_an_import_failing_on_an_outage_is_retried_once_stale_and_books_once(paid, monkeypatch):
    ledger, data = paid
    (bank_dir("inbox") / "ocr.txt").write_bytes(data)
    real_import = inbox.payment_file_import

    def outage(**kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(inbox, "payment_file_import", outage)
    [failed] = bank_inbox_scan()["files"]
    assert failed["status"] == "error" and "database went away" in failed["error"]
    [claim] = bank_dir("processing").iterdir()
    assert [p.name for p in claim.iterdir()] == ["ocr.txt"]  # kept, not in failed/ nor back in the inbox
    assert list(bank_dir("inbox").iterdir()) == [] and Payment.objects.count() == 0

    monkeypatch.setattr(inbox, "payment_file_import", real_import)
    assert bank_inbox_scan()["files"] == []  # not yet stale
    age(claim, 3600)
    [done] = bank_inbox_scan()["files"]
    assert done["status"] == "accepted"
    assert bank_inbox_scan(stale_seconds=0)["files"] == []  # nothing left to take over
    assert Payment.objects.filter(ledger=ledger).count() == 1
    assert list(bank_dir("processing").iterdir()) == []


def test_a_claim_of_the_earlier_flat_layout_is_taken_over_too(paid):
    ledger, data = paid
    legacy = bank_dir("processing") / f"{'a' * 32}-ocr.txt"
    legacy.write_bytes(data)
    age(legacy, 3600)
    [done] = bank_inbox_scan()["files"]
    assert (done["file"], done["status"]) == ("ocr.txt", "accepted")
    assert (bank_dir("archive") / "ocr.txt").is_file() and list(bank_dir("processing").iterdir()) == []


def test_a_long_import_keeps_its_claim_fresh_so_no_other_scan_takes_it_over(tmp_path):
    """The claim folder's mtime is the heartbeat another worker's scan reads (BANK_INBOX_STALE_SECONDS):
    touched while the import runs, left alone after it."""
    import os
    import time as clock

    from ledger.payments.inbox import _heartbeat

    folder = tmp_path / "claim"
    folder.mkdir()
    os.utime(folder, (clock.time() - 3600, clock.time() - 3600))
    with _heartbeat(folder, every=0.05):
        clock.sleep(0.3)
        assert clock.time() - folder.stat().st_mtime < 1
    os.utime(folder, (clock.time() - 3600, clock.time() - 3600))
    clock.sleep(0.2)
    assert clock.time() - folder.stat().st_mtime > 3000  # stopped with the import
