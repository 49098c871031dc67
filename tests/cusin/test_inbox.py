"""The sFTP inbox watcher: complete files only, one claim per file, archive/failed, crash recovery."""

import functools
import json
import os
import time
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from lxml import etree

from cusin import inbox
from cusin import services as cusin_services
from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.inbox import inbox_scan
from cusin.models import CusinFile
from cusin.tasks import scan_inbox
from ledger.models import Invoice
from ledger.outbox import claims_dir, company_dir, file_claim, sftp_root
from ledger.verify import ledger_verify
from tests.factories import LedgerFactory

DAY = date(2026, 1, 15)


def name(serial: int, company_no: str = "7777") -> str:
    return f"CUSIN_{company_no}_20260115083000_{serial}.xml"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def no_ledger(db):
    return LedgerFactory(company_no="7777", ledger_no="54321", country="NO")


def customers(*nos, prefix="INV"):
    return [
        CustomerSpec(
            customer_no=str(no),
            name=f"Customer {no}",
            street="Storgata 1",
            zip_code="0155",
            city="Oslo",
            items=[
                InvoiceSpec(
                    invoice_no=f"{prefix}-{no}",
                    invoice_date=DAY,
                    amount_excl_vat=Decimal("1000.00"),
                    vat_amount=Decimal("250.00"),
                    currency="NOK",
                )
            ],
        )
        for no in nos
    ]


def age(path, seconds: float):
    """Make the file look written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def upload(file_name: str, *, nos=(1,), company_no="7777", content: str | None = None, ago: float = 60):
    """A file as a client leaves it in its inbox (complete, written a minute ago unless told)."""
    path = company_dir(company_no, "inbox") / file_name
    if content is None:
        write_cusin(path, company_no=company_no, customers=customers(*nos, prefix=f"S{file_name[-5]}"))
    else:
        path.write_text(content)
    return age(path, ago)


def listing(company_no: str, folder: str) -> list[str]:
    path = sftp_root() / company_no / folder
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def claims(company_no: str = "7777") -> list:
    """The files claimed (outside the client's chroot), wherever they sit in the claims' folder."""
    path = claims_dir(company_no)
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def chroot(company_no: str = "7777") -> list[str]:
    """What the client sees in its sFTP chroot."""
    return sorted(p.name for p in (sftp_root() / company_no).iterdir())


def status_in(xml_path) -> str:
    return etree.parse(str(xml_path)).findtext("Status")


# --- the happy path ------------------------------------------------------------------------------


def test_a_complete_file_is_imported_archived_and_answered_in_the_outbox(no_ledger):
    upload(name(1), nos=(1, 2))

    summary = inbox_scan()

    assert summary == {
        "files": [
            {"company_no": "7777", "file": name(1), "status": "accepted", "moved_to": f"archive/{name(1)}"}
        ],
        "skipped_incomplete": 0,
    }
    assert listing("7777", "inbox") == []
    assert listing("7777", "archive") == [name(1)]
    assert claims() == [] and chroot() == ["archive", "inbox", "outbox"]  # no claim folder, none shown
    assert status_in(company_dir("7777", "outbox") / "CUSIN_7777_20260115083000_1_receipt.xml") == "Accepted"
    assert Invoice.objects.filter(ledger=no_ledger).count() == 2
    assert CusinFile.objects.get().source == "sftp"
    assert inbox_scan() == {"files": [], "skipped_incomplete": 0}  # nothing left to do


def test_a_rejected_file_goes_to_failed_with_its_error_log(no_ledger):
    upload(name(1), content="not xml at all")

    summary = inbox_scan()

    assert summary["files"] == [
        {"company_no": "7777", "file": name(1), "status": "rejected", "moved_to": f"failed/{name(1)}"}
    ]
    errorlog = "CUSIN_7777_20260115083000_1_errorlog.xml"
    assert listing("7777", "failed") == [name(1), errorlog]
    assert listing("7777", "inbox") == listing("7777", "archive") == []
    outbox = company_dir("7777", "outbox")
    assert status_in(outbox / "CUSIN_7777_20260115083000_1_receipt.xml") == "Rejected"
    assert (company_dir("7777", "failed") / errorlog).read_bytes() == (outbox / errorlog).read_bytes()
    assert etree.parse(str(outbox / errorlog)).findtext("Error/Code")


def test_a_partially_accepted_file_is_archived(no_ledger):
    path = company_dir("7777", "inbox") / name(1)
    age(write_cusin(path, company_no="7777", customers=customers(1) + customers(1)), 60)  # CustomerNo twice
    [entry] = inbox_scan()["files"]
    assert (entry["status"], entry["moved_to"]) == ("partially_accepted", f"archive/{name(1)}")
    assert "CUSIN_7777_20260115083000_1_errorlog.xml" in listing("7777", "outbox")


# --- uploads in progress -------------------------------------------------------------------------


def test_uploads_still_in_progress_are_left_alone(no_ledger):
    upload(name(1) + ".part")
    upload(name(2) + ".tmp")
    upload(name(3) + ".filepart")
    upload("." + name(4))  # hidden: some clients upload under a dot name first
    upload(name(5), ago=1)  # still being written: modified a second ago

    summary = inbox_scan(min_age_seconds=5)

    assert summary == {"files": [], "skipped_incomplete": 4}
    assert len(listing("7777", "inbox")) == 5
    assert not CusinFile.objects.exists()

    later = inbox_scan(now=timezone.now() + timedelta(seconds=10), min_age_seconds=5)
    assert [(f["file"], f["status"]) for f in later["files"]] == [(name(5), "accepted")]
    assert later["skipped_incomplete"] == 3


def test_the_minimum_age_comes_from_the_settings(no_ledger, settings):
    upload(name(1), ago=30)
    settings.CUSIN_INBOX_MIN_AGE_SECONDS = 60
    assert inbox_scan()["skipped_incomplete"] == 1
    settings.CUSIN_INBOX_MIN_AGE_SECONDS = 10
    assert inbox_scan()["files"][0]["status"] == "accepted"


# --- isolation -----------------------------------------------------------------------------------


def test_a_corrupt_file_does_not_block_the_files_behind_it(no_ledger):
    upload(name(1), content="<CUSIN Version='2.0'><broken>")
    upload(name(2), nos=(1,))
    upload(name(3), nos=(2,))

    summary = inbox_scan()

    assert [(f["file"], f["status"]) for f in summary["files"]] == [
        (name(1), "rejected"),
        (name(2), "accepted"),
        (name(3), "accepted"),
    ]
    assert listing("7777", "archive") == [name(2), name(3)]
    assert Invoice.objects.filter(ledger=no_ledger).count() == 2


def test_an_unexpected_error_stays_in_processing_and_does_not_block(no_ledger, monkeypatch):
    upload(name(1), nos=(1,))
    upload(name(2), nos=(2,))
    real_import = inbox.cusin_import

    def buggy(*, path, **kwargs):
        if path.name == name(1):
            raise RuntimeError("database went away")
        return real_import(path=path, **kwargs)

    monkeypatch.setattr(inbox, "cusin_import", buggy)
    summary = inbox_scan()

    first, second = summary["files"]
    assert (first["status"], first["error"]) == ("error", "RuntimeError: database went away")
    assert first["moved_to"].startswith("claims/7777/") and first["moved_to"].endswith(name(1))
    assert (second["status"], second["moved_to"]) == ("accepted", f"archive/{name(2)}")
    assert listing("7777", "inbox") == []  # not put back: it would fail again every minute
    assert [c.split("/")[-1] for c in claims()] == [name(1)]
    assert "processing" not in chroot() and name(1) not in str(list((sftp_root() / "7777").rglob("*")))
    assert inbox_scan()["files"] == []  # a fresh claim is not retried yet


def test_directories_that_are_not_company_numbers_are_ignored(no_ledger):
    stray = sftp_root() / "lost+found" / "inbox"
    stray.mkdir(parents=True)
    (stray / name(1)).write_text("x")
    age(stray / name(1), 60)
    assert inbox_scan() == {"files": [], "skipped_incomplete": 0}
    assert (stray / name(1)).exists()


def test_a_client_cannot_import_into_another_companys_ledger(no_ledger):
    other = LedgerFactory(company_no="8888", ledger_no="88888", country="NO")
    path = company_dir("7777", "inbox") / name(1, company_no="8888")
    age(write_cusin(path, company_no="8888", customers=customers(1)), 60)

    [entry] = inbox_scan()["files"]

    assert (entry["company_no"], entry["status"]) == ("7777", "rejected")
    assert not Invoice.objects.filter(ledger=other).exists()
    assert listing("7777", "failed") == [name(1, "8888"), "CUSIN_8888_20260115083000_1_errorlog.xml"]
    receipt = etree.parse(str(company_dir("7777", "outbox") / "CUSIN_8888_20260115083000_1_receipt.xml"))
    assert receipt.findtext("Status") == "Rejected"
    assert not (sftp_root() / "8888").exists()


def test_a_misnamed_file_gets_a_receipt_in_its_companys_outbox(no_ledger):
    upload("invoices.xml", nos=(1,))
    [entry] = inbox_scan()["files"]
    assert (entry["status"], entry["moved_to"]) == ("rejected", "failed/invoices.xml")
    receipt = etree.parse(str(company_dir("7777", "outbox") / "invoices_receipt.xml"))
    assert (receipt.findtext("Status"), receipt.findtext("CompanyNo")) == ("Rejected", "7777")
    log = etree.parse(str(company_dir("7777", "failed") / "invoices_errorlog.xml"))
    assert log.findtext("Error/Code") == "InvalidFileName"


def test_a_name_already_in_the_archive_is_not_overwritten(no_ledger):
    upload(name(1), nos=(1,))
    inbox_scan()
    upload(name(1), nos=(1,))  # the same file again: same receipt, nothing booked twice
    [entry] = inbox_scan()["files"]
    assert (entry["status"], entry["moved_to"]) == ("accepted", "archive/CUSIN_7777_20260115083000_1.2.xml")
    assert Invoice.objects.filter(ledger=no_ledger).count() == 1


# --- claims and crashes --------------------------------------------------------------------------


def test_a_file_claimed_by_one_worker_is_not_taken_by_another(no_ledger):
    path = upload(name(1))
    processing = claims_dir("7777")

    claimed = file_claim(path, processing)  # worker A renamed it away first ...
    assert claimed is not None and claimed.name == name(1)
    assert file_claim(path, processing) is None  # ... so worker B's rename finds nothing,
    assert inbox_scan() == {"files": [], "skipped_incomplete": 0}  # and B's scan neither
    assert claims() == [f"{claimed.parent.name}/{name(1)}"]  # B left no empty claim folder behind
    assert not CusinFile.objects.exists()


def test_a_crashed_import_is_resumed_once_stale_and_booked_exactly_once(no_ledger, monkeypatch):
    upload(name(1), nos=(1, 2, 3, 4, 5))
    real_book_batch = cusin_services._book_batch

    def killed_on_second_batch(**kwargs):
        if kwargs["batch_no"] == 2:
            raise RuntimeError("worker killed")
        return real_book_batch(**kwargs)

    monkeypatch.setattr(inbox, "cusin_import", functools.partial(cusin_services.cusin_import, batch_size=2))
    monkeypatch.setattr(cusin_services, "_book_batch", killed_on_second_batch)
    assert inbox_scan()["files"][0]["status"] == "error"
    assert Invoice.objects.filter(ledger=no_ledger).count() == 2  # batch 1 was committed
    monkeypatch.setattr(cusin_services, "_book_batch", real_book_batch)

    soon = timezone.now() + timedelta(seconds=django_settings.CUSIN_INBOX_STALE_SECONDS - 60)
    assert inbox_scan(now=soon)["files"] == []  # the claim may still be alive: left alone

    later = timezone.now() + timedelta(seconds=django_settings.CUSIN_INBOX_STALE_SECONDS + 1)
    summary = inbox_scan(now=later)

    assert summary["files"] == [
        {"company_no": "7777", "file": name(1), "status": "accepted", "moved_to": f"archive/{name(1)}"}
    ]
    assert Invoice.objects.filter(ledger=no_ledger).count() == 5
    assert CusinFile.objects.get().status == "accepted"
    assert claims() == [] and "processing" not in chroot()
    assert inbox_scan(now=later)["files"] == []
    assert all(check["ok"] for check in ledger_verify(ledger=no_ledger))


def test_a_file_left_in_processing_past_the_stale_age_is_retried_and_booked_once(no_ledger, tmp_path):
    # A worker of the version before claims_dir booked the file, then died before moving it out of the
    # chroot's processing/: taken over from there, the chroot's folder removed once empty.
    booked = write_cusin(tmp_path / name(1), company_no="7777", customers=customers(1, 2))
    first = cusin_services.cusin_import(path=booked, source="sftp")
    assert first["status"] == "accepted"
    processing = sftp_root() / "7777" / "processing"
    processing.mkdir(parents=True)
    os.rename(booked, processing / name(1))
    age(processing / name(1), 700)
    fresh = age(write_cusin(processing / name(2), company_no="7777", customers=customers(3)), 10)
    (processing / "0123abcd").mkdir()  # an empty claim folder a crash left behind
    age(processing / "0123abcd", 700)

    summary = inbox_scan(stale_seconds=600)

    assert summary["files"] == [
        {"company_no": "7777", "file": name(1), "status": "accepted", "moved_to": f"archive/{name(1)}"}
    ]
    assert Invoice.objects.filter(ledger=no_ledger).count() == 2  # booked once, not twice
    assert fresh.exists() and listing("7777", "processing") == [name(2)]  # someone's work in progress
    assert claims() == []
    assert status_in(company_dir("7777", "outbox") / "CUSIN_7777_20260115083000_1_receipt.xml") == "Accepted"


# --- the command and the task --------------------------------------------------------------------


def test_watch_inbox_once_prints_the_summary(no_ledger):
    upload(name(1))
    upload(name(2) + ".part")
    out = StringIO()
    call_command("watch_inbox", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {
        "files": [
            {"company_no": "7777", "file": name(1), "status": "accepted", "moved_to": f"archive/{name(1)}"}
        ],
        "skipped_incomplete": 1,
    }


def test_watch_inbox_loops_until_ctrl_c(no_ledger, monkeypatch):
    from cusin.management.commands import watch_inbox

    upload(name(1))
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(watch_inbox.time, "sleep", sleep)
    monkeypatch.setattr(watch_inbox, "close_old_connections", lambda: None)  # keep the test's transaction
    out = StringIO()
    call_command("watch_inbox", "--interval", "7", stdout=out)

    line, rest = out.getvalue().split("\n", 1)
    assert json.loads(line)["files"][0]["status"] == "accepted"  # the second scan found nothing: no line
    assert json.loads(rest) == {"ok": True, "scans": 2, "failed_scans": 0}
    assert sleeps == [7.0, 7.0]


def test_the_celery_task_scans_the_inboxes(no_ledger):
    upload(name(1))
    assert scan_inbox.apply().get()["files"][0]["status"] == "accepted"
    entry = django_settings.CELERY_BEAT_SCHEDULE["cusin-scan-inbox"]
    assert (entry["task"], entry["schedule"]) == ("cusin.scan_inbox", 60.0)


def test_watch_inbox_refuses_a_non_positive_interval(db):
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("watch_inbox", "--interval", "0", stdout=out)
    assert exc.value.code == 1
    assert json.loads(out.getvalue())["error"]["code"] == "usage"
