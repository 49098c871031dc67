"""A Celery worker killed with SIGKILL in the middle of a business day (issue 27, docs/reliability.md).

Real processes against the real broker (only with REDIS_URL): a worker takes `claims.run_daily` and,
while the day's letters are being rendered, either the whole worker is killed (its main process and its
child: a new worker is given the same task again once the broker's visibility timeout has passed) or only
the child running the task (the main process puts the task back at once: reject_on_worker_lost). Either
way the day is finished: every invoice has its reminder and its fee once, every letter exists once and
has left the queue, and verify_ledger is clean."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from claims.models import BusinessDayRun, ClaimEvent, ClaimEventKind
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.models import CusinFile, FileStatus
from distribution.models import Document, DocumentEvent, DocumentStatus
from distribution.services.queueing import DocumentRequest, documents_queue
from ledger.models import Invoice, JournalTransaction, Payment, TransactionKind
from ledger.outbox import claims_dir, company_dir
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.payments.inbox import bank_dir
from ledger.services.registration import InvoiceInput, invoices_register
from ledger.verify import ledger_verify
from payex_ledger.celery import app
from tests.cusin.test_celery_worker import database_url
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.ledger.test_payments_import import ACCOUNT

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a broker: set REDIS_URL"),
    pytest.mark.faults,
]

ROOT = Path(__file__).resolve().parents[2]
INVOICES = 150
VISIBILITY_SECONDS = 12  # the broker gives a dead worker's task to another after this long


def start_worker(env: dict, queue: str) -> subprocess.Popen:
    """A worker with one prefork child, in a process group of its own (so it can be killed whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "payex_ledger", "worker", "--pool=prefork", "--concurrency=1",
         "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)


class Workers:
    """Celery workers on the test's own queue (no other worker takes its tasks), with the broker's
    visibility timeout short and swept every second, and `env` on top; whatever still runs at the end
    is killed, and the workers' output kept for the assertions' messages."""

    def __init__(self, settings, **env: str):
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "LEDGER_DATA_DIR": str(settings.LEDGER_DATA_DIR),
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_SECONDS),
            "CELERY_RESTORE_SWEEP_SECONDS": "1",
            **env,
        }
        self.started: list[subprocess.Popen] = []
        self.outputs: list[str] = []

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.started:
            if worker.poll() is None:  # (it may be running the task once more)
                os.killpg(worker.pid, signal.SIGKILL)
            self.outputs.append(worker.communicate(timeout=30)[0])

    def start(self) -> subprocess.Popen:
        worker = start_worker(self.env, self.queue)
        self.started.append(worker)
        return worker

    def send(self, task: str, *args) -> None:
        app.send_task(task, args=list(args), queue=self.queue)

    @staticmethod
    def kill(worker: subprocess.Popen) -> None:
        """SIGKILL to the worker's main process and its child at once."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(child) for child in f.read().split()]


@pytest.mark.parametrize("killed", ["worker", "child"])
def test_a_business_day_whose_worker_is_killed_is_finished_once(killed, transactional_db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="DK")  # a reminder with a fee 3 days after the due date, by letter
    today = ledger.today()
    invoices = [
        InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=today - timedelta(days=17))
        for _ in range(INVOICES)
    ]
    # a letter the dead worker had claimed is taken over this long after its claim
    with Workers(settings, DOCUMENT_CLAIM_STALE_SECONDS="5") as workers:
        first = workers.start()
        workers.send("claims.run_daily", today.isoformat())
        letters = Document.objects.filter(ledger=ledger).exclude(archive_name="")
        # killed once the reminders are booked and the letters are being rendered
        wait_for(lambda: letters.count() >= 10, 120, "the first letters to be rendered")
        if killed == "worker":
            workers.kill(first)
        else:
            [child] = children(first.pid)
            os.kill(child, signal.SIGKILL)
        killed_at = letters.count()
        assert not BusinessDayRun.objects.filter(ledger=ledger, finished_at__isnull=False).exists()
        assert killed_at < INVOICES, "the day had finished before the kill: make it longer"

        if killed == "worker":
            workers.start()
        wait_for(lambda: BusinessDayRun.objects.filter(ledger=ledger, finished_at__isnull=False).exists(),
                 VISIBILITY_SECONDS + 120, "the day to be finished after the kill")  # fmt: skip
    outputs = workers.outputs

    # (the test's visibility timeout is shorter than the day: the broker may hand the task out once more
    # while it runs, and that run must change nothing either)
    runs = BusinessDayRun.objects.filter(ledger=ledger, finished_at__isnull=False)
    assert runs and all(run.summary["ok"] is True for run in runs), ([r.summary for r in runs], outputs)
    for invoice in invoices:
        steps = ClaimEvent.objects.filter(invoice_id=invoice.id, kind=ClaimEventKind.STEP)
        assert [s.step_kind for s in steps] == ["reminder"], invoice.invoice_no
        fees = JournalTransaction.objects.filter(invoice_id=invoice.id, kind=TransactionKind.FEE)
        assert fees.count() == 1, invoice.invoice_no
    documents = Document.objects.filter(ledger=ledger, kind="reminder")
    assert documents.count() == INVOICES
    assert sorted(documents.values_list("invoice_id", flat=True)) == sorted(i.id for i in invoices)
    assert not documents.filter(status__in=[DocumentStatus.QUEUED, DocumentStatus.PROCESSING]).exists()
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


CUSIN_INVOICES = 20_000


def test_a_cusin_import_whose_worker_is_killed_is_resumed_and_booked_once(transactional_db, settings, tmp_path):
    """The inbox scan's worker killed whole while it imports a file of 20,000 invoices: the file stays
    claimed in processing/; the scan given out again by the broker takes the stale claim over and
    `cusin_import` resumes the file: every invoice once, one receipt, the file archived."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7777", ledger_no="54321", country="NO")
    name = "CUSIN_7777_20260115083000_1.xml"
    upload = write_cusin(
        company_dir("7777", "inbox") / name, company_no="7777",
        customers=(CustomerSpec(customer_no=str(10_000 + n), name=f"Customer {n}", street="Storgata 1",
                                zip_code="0155", city="Oslo",
                                items=[InvoiceSpec(invoice_no=f"K-{n}", invoice_date=ledger.today(),
                                                   amount_excl_vat=100, vat_amount=25, currency="NOK")])
                   for n in range(CUSIN_INVOICES)),
    )  # fmt: skip
    old = time.time() - 3600
    os.utime(upload, (old, old))  # an upload finished an hour ago
    processing = claims_dir("7777")
    # a claim with no progress for this long is taken over
    with Workers(settings, CUSIN_INBOX_STALE_SECONDS="3") as workers:
        first = workers.start()
        workers.send("cusin.scan_inbox")
        wait_for(lambda: processing.is_dir() and any(processing.iterdir()), 60, "the file to be claimed")
        booked = Invoice.objects.filter(ledger=ledger)
        wait_for(lambda: booked.exists(), 120, "the first batch to be booked")  # in the middle of the import
        workers.kill(first)
        assert not upload.exists() and not (company_dir("7777", "archive") / name).exists()
        assert 0 < booked.count() < CUSIN_INVOICES, "the import had finished before the kill: make it longer"

        workers.start()
        wait_for(lambda: (company_dir("7777", "archive") / name).exists(), VISIBILITY_SECONDS + 180,
                 "the file to be imported and archived by the second worker")  # fmt: skip
    outputs = workers.outputs

    assert Invoice.objects.filter(ledger=ledger).count() == CUSIN_INVOICES, outputs
    [cusin_file] = CusinFile.objects.filter(ledger=ledger)
    assert cusin_file.status == FileStatus.ACCEPTED
    assert [p.name for p in company_dir("7777", "outbox").iterdir()] == ["CUSIN_7777_20260115083000_1_receipt.xml"]
    assert not any(processing.iterdir())
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


PAYMENTS = 20_000


def test_a_payments_import_whose_worker_is_killed_is_imported_once_by_the_next(transactional_db, settings, tmp_path):
    """The business day's worker killed whole while it imports a bank file of 20,000 payments (one
    transaction: rolled back): the file stays claimed in processing/; the day given out again takes the
    stale claim over and imports it: every payment once, every invoice closed, the file archived."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO", client_funds_account=ACCOUNT)
    today = ledger.today()
    customers = [CustomerFactory(ledger=ledger) for _ in range(100)]
    invoices = invoices_register(
        ledger=ledger, actor="test",
        invoices=[InvoiceInput(customer=customers[n % 100], invoice_no=f"P-{n}", invoice_date=today,
                               amount=Decimal("100.00")) for n in range(PAYMENTS)],
    )  # fmt: skip
    (bank_dir("inbox") / "ocr.txt").write_bytes(write_ocr_giro(
        [PaymentSpec(reference=i.payment_ref, amount=i.amount, archive_ref=f"{n:09d}") for n, i in enumerate(invoices)],
        receiving_account=ACCOUNT, nets_date=today,
    ))  # fmt: skip
    archived = bank_dir("archive") / "ocr.txt"
    payments = Payment.objects.filter(ledger=ledger)
    with Workers(settings, BANK_INBOX_STALE_SECONDS="3") as workers:
        first = workers.start()
        workers.send("claims.run_daily", today.isoformat())
        wait_for(lambda: any(bank_dir("processing").iterdir()), 60, "the bank file to be claimed")
        time.sleep(1)  # the import runs
        workers.kill(first)
        assert not archived.exists(), "the import had finished before the kill: make it longer"
        assert payments.count() == 0  # one transaction: nothing of it stays

        workers.start()
        wait_for(archived.exists, VISIBILITY_SECONDS + 180, "the file to be imported by the second worker")
    outputs = workers.outputs

    assert payments.count() == PAYMENTS, outputs
    assert not Invoice.objects.filter(ledger=ledger).exclude(status="closed").exists()
    assert list(bank_dir("processing").iterdir()) == [] and list(bank_dir("inbox").iterdir()) == []
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)


LETTERS = 120


def test_a_document_run_whose_worker_is_killed_sends_every_email_once_by_its_message_id(
    transactional_db, settings, tmp_path
):
    """`distribution.distribute_documents` killed whole while it renders and e-mails 120 reminders: the
    next worker is given the task again, takes over the documents the dead one had claimed, and sends
    the rest. Every document is sent and recorded once; every e-mail carries its document's own
    Message-ID, the same in every attempt, so one the dead worker had handed to the mail server before
    it could record it goes again as a repeat a mail server drops, never as a second message."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO")
    today = ledger.today()
    requests = []
    for n in range(LETTERS):
        customer = CustomerFactory(ledger=ledger, email=f"kunde{n}@example.no")
        invoice = InvoiceFactory(customer=customer, invoice_no=f"E-{n}", invoice_date=today)
        requests.append(DocumentRequest(ledger.id, customer.id, invoice.id, "reminder", today, f"r{n}", {}))
    documents_queue(requests=requests)
    letters = Document.objects.filter(ledger=ledger, kind="reminder")
    with Workers(settings, DOCUMENT_CLAIM_STALE_SECONDS="3") as workers:
        first = workers.start()
        workers.send("distribution.distribute_documents", today.isoformat(), ledger.company_no)
        wait_for(lambda: letters.filter(status=DocumentStatus.SENT).count() >= 10, 120, "the first e-mails")
        workers.kill(first)
        assert letters.filter(status=DocumentStatus.SENT).count() < LETTERS, "the run finished before the kill"

        workers.start()
        wait_for(lambda: not letters.exclude(status=DocumentStatus.SENT).exists(), VISIBILITY_SECONDS + 180,
                 "every letter to be sent after the kill")  # fmt: skip
    outputs = workers.outputs

    assert DocumentEvent.objects.filter(document__in=letters, to_status="sent").count() == LETTERS, outputs
    mail = "".join(p.read_text(errors="replace") for p in (settings.LEDGER_DATA_DIR / "mail").iterdir())
    ids = re.findall(r"^Message-ID: <document-(\d+)@", mail, flags=re.MULTILINE)
    assert set(map(int, ids)) == set(letters.values_list("pk", flat=True))  # every one delivered
    repeats = len(ids) - LETTERS  # (at most the one in flight at the kill, with the same Message-ID)
    assert 0 <= repeats <= 1, repeats
    assert all(check["ok"] for check in ledger_verify(ledger=ledger)), ledger_verify(ledger=ledger)
