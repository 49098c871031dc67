"""The sFTP inbox watcher: import complete CUSIN files from `$LEDGER_DATA_DIR/sftp/<CompanyNo>/inbox/`.

One scan, for every company directory under `sftp_root()`:

1. Claims left behind by a worker that crashed or died (no progress for
   `CUSIN_INBOX_STALE_SECONDS`) are taken over and imported again; `cusin_import` resumes a file it
   left in status "processing", so nothing is booked twice.
2. The inbox is read in name order. Hidden files, `.part`/`.tmp`/`.filepart` names and files written
   to less than `CUSIN_INBOX_MIN_AGE_SECONDS` ago are uploads still in progress and are left alone.
3. A file is claimed by renaming it into a claim folder of its own,
   `$LEDGER_DATA_DIR/claims/<CompanyNo>/<claim>/<name>` (outside the client's sFTP chroot, on the same
   file system; the original name is kept: it carries CompanyNo and serial). A rename is atomic, so of
   two workers exactly one wins; the other gets FileNotFoundError and moves on. Claims an older
   version left in the chroot (`sftp/<CompanyNo>/processing/`) are taken over like stale ones.
4. It is imported; `cusin_import` writes the receipt (and error log) to `outbox/`. An accepted or
   partially accepted file is moved to `archive/`, a rejected one to `failed/` with a copy of its
   error log beside it. An unexpected exception (a bug, a database outage) leaves the file in its
   claim folder, to be retried once the claim is stale: never back to the inbox, where it would loop.

Each file's failure is isolated: a corrupt file never blocks the files behind it. The claim folder's
mtime is the claim's heartbeat: it is set when claimed and touched after every booked batch, so a
long import is not mistaken for a dead one.
"""

import logging
import os
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ledger.bulk import connection_drop_if_broken
from ledger.outbox import (
    claimed_files,
    claims_dir,
    company_dir,
    file_claim,
    file_move_keeping,
    folder_remove_if_empty,
    mtime_or_never,
    sftp_root,
    write_atomic,
)

from . import receipts, xmlread
from .services import FILE_NAME, cusin_import, rejected_receipt

logger = logging.getLogger(__name__)

LEGACY_PROCESSING = "processing"  # the claims' folder inside the chroot, before claims_dir
INCOMPLETE_SUFFIXES = (".part", ".tmp", ".filepart")


def inbox_scan(
    *,
    now: datetime | None = None,
    min_age_seconds: float | None = None,
    stale_seconds: float | None = None,
) -> dict:
    """Import every complete file in every company's inbox; return what was done with each."""
    now_ts = (now or timezone.now()).timestamp()
    if min_age_seconds is None:
        min_age_seconds = settings.CUSIN_INBOX_MIN_AGE_SECONDS
    if stale_seconds is None:
        stale_seconds = settings.CUSIN_INBOX_STALE_SECONDS
    summary = {"files": [], "skipped_incomplete": 0}
    root = sftp_root()
    if not root.is_dir():
        return summary
    for company in sorted(root.iterdir(), key=lambda p: p.name):
        if not company.is_dir():
            continue
        if not company.name.isdigit():
            logger.warning("sftp inbox: ignoring %s: not a CompanyNo directory", company)
            continue
        try:
            _scan_company(company.name, now_ts, min_age_seconds, stale_seconds, summary)
        except OSError:  # e.g. a folder we may not read: the other companies go on
            logger.exception("sftp inbox: scanning %s failed", company)
    return summary


def _scan_company(company_no: str, now_ts: float, min_age: float, stale: float, summary: dict) -> None:
    processing = claims_dir(company_no)
    legacy = sftp_root() / company_no / LEGACY_PROCESSING
    for folder in (legacy, processing):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") or now_ts - mtime_or_never(entry) < stale:
                continue
            for path in claimed_files(entry):
                if path.is_file() and not path.is_symlink():
                    claimed = file_claim(path, processing)
                    if claimed is not None:
                        logger.warning("sftp inbox: retrying stale claim %s", path)
                        summary["files"].append(_process(company_no, claimed))
            if entry.is_dir():
                folder_remove_if_empty(entry)  # an emptied (or never filled) claim folder
        if folder == legacy:
            folder_remove_if_empty(legacy)

    inbox = sftp_root() / company_no / "inbox"
    if not inbox.is_dir():
        return
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if path.is_symlink() or not path.is_file():
            logger.warning("sftp inbox: ignoring %s: not a regular file", path)
            continue
        if path.name.lower().endswith(INCOMPLETE_SUFFIXES) or now_ts - mtime_or_never(path) < min_age:
            summary["skipped_incomplete"] += 1
            continue
        claimed = file_claim(path, processing)
        if claimed is not None:
            summary["files"].append(_process(company_no, claimed))










def _process(company_no: str, claimed: Path) -> dict:
    """Import one claimed file and move it to archive/ or failed/; any failure stays with this file."""
    name = claimed.name
    company_root = sftp_root() / company_no
    entry = {"company_no": company_no, "file": name, "status": "error", "moved_to": None}

    def heartbeat(done: int, total: int) -> None:
        try:
            os.utime(claimed.parent)
        except OSError:
            pass

    try:
        match = FILE_NAME.match(name)
        if match and match["company_no"] != company_no:
            # A client may only import into its own ledger: its inbox decides, not the file name.
            receipt = rejected_receipt(
                name,
                company_no,
                xmlread.CusinFileError(
                    "InvalidFileName",
                    f"the file name says CompanyNo {match['company_no']}, "
                    f"but it was uploaded to the inbox of CompanyNo {company_no}",
                ),
            )
            receipts.write_to_outbox(receipt, company_no)
        else:
            receipt = cusin_import(path=claimed, source="sftp", progress=heartbeat)
            if not receipt["company_no"]:  # a name without a CompanyNo: cusin_import had no outbox
                receipt = {**receipt, "company_no": company_no}
                receipts.write_to_outbox(receipt, company_no)
        entry["status"] = receipt["status"]
        if receipt["status"] == "rejected":
            moved = file_move_keeping(claimed, company_dir(company_no, "failed"))
            if receipt["errors"]:
                write_atomic(moved.with_name(f"{moved.stem}_errorlog.xml"), receipts.errorlog_xml(receipt))
        else:
            moved = file_move_keeping(claimed, company_dir(company_no, "archive"))
    except Exception as exc:  # a bug or an outage: leave the claim to be retried
        logger.exception("sftp inbox: importing %s failed; it stays in %s", name, claimed.parent)
        connection_drop_if_broken()  # a connection the database cut is not used again
        entry.update(
            status="error",
            moved_to=str(claimed.relative_to(claims_dir(company_no).parent.parent)),  # claims/<CompanyNo>/...
            error=f"{type(exc).__name__}: {exc}",
        )
        return entry
    folder_remove_if_empty(claimed.parent)
    entry["moved_to"] = str(moved.relative_to(company_root))
    logger.info("sftp inbox: %s %s, moved to %s", name, receipt["status"], entry["moved_to"])
    return entry

