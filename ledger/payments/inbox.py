"""Bank payment files dropped in `$LEDGER_DATA_DIR/bank/inbox/` (the bank's delivery folder), imported by
the business day: each file is claimed by renaming it into a claim folder of its own under `processing/`
(of two workers one wins; the folder's mtime is the claim's time), imported with `payment_file_import`
(one transaction; it finds the ledger by the receiving account and books nothing twice), and moved to
`archive/`, or to `failed/` with a `.error.json` beside it when the file was rejected whole.

A worker that dies in the middle (SIGKILL, the machine gone) or meets an unexpected error (the database
restarted, a bug) leaves the file in its claim folder, its import rolled back; a scan takes over a claim
older than `BANK_INBOX_STALE_SECONDS` and imports the file again (docs/reliability.md). Nothing stays in
`processing/` for good and nothing goes back to the inbox, where it would loop."""

import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from ledger.bulk import connection_drop_if_broken
from ledger.outbox import (
    claimed_files,
    file_claim,
    file_move_keeping,
    folder_remove_if_empty,
    mtime_or_never,
    write_atomic,
)
from ledger.payments.bank_import import payment_file_import

logger = logging.getLogger(__name__)

INCOMPLETE_SUFFIXES = (".part", ".tmp", ".filepart")


def bank_dir(folder: str) -> Path:
    path = Path(settings.LEDGER_DATA_DIR) / "bank" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def bank_inbox_scan(*, stale_seconds: float | None = None) -> dict:
    """Import every complete file in the bank inbox, and the files of stale claims; a failure of one
    file never blocks the next."""
    if stale_seconds is None:
        stale_seconds = settings.BANK_INBOX_STALE_SECONDS
    summary = {"files": []}
    processing = bank_dir("processing")
    now = time.time()
    for entry in sorted(processing.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or now - mtime_or_never(entry) < stale_seconds:
            continue
        for path in claimed_files(entry):
            name = path.name if entry.is_dir() else path.name.split("-", 1)[-1]
            claimed = file_claim(path, processing, name)
            if claimed is not None:
                logger.warning("bank inbox: retrying stale claim %s", path)
                summary["files"].append(_import(claimed, name, stale_seconds))
        folder_remove_if_empty(entry)
    inbox = bank_dir("inbox")
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(INCOMPLETE_SUFFIXES):
            continue
        claimed = file_claim(path, processing)
        if claimed is not None:
            summary["files"].append(_import(claimed, path.name, stale_seconds))
    return summary


@contextmanager
def _heartbeat(folder: Path, every: float):
    """While the import runs, the claim folder's mtime is touched every `every` seconds: a long import is
    never taken for a dead one (a scan of another worker would otherwise take the file over mid-import).
    A killed worker's heartbeat dies with it, and its claim goes stale."""
    stop = threading.Event()

    def beat():
        while not stop.wait(every):
            try:
                os.utime(folder)
            except OSError:  # the folder is gone: the import moved the file out
                return

    thread = threading.Thread(target=beat, name="bank-claim-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _import(claimed: Path, name: str, stale_seconds: float) -> dict:
    entry = {"file": name}
    try:
        with _heartbeat(claimed.parent, max(0.2, stale_seconds / 4)):
            result = payment_file_import(path=claimed)
    except Exception as exc:  # an outage or a bug: the claim is retried once stale
        logger.exception("bank inbox: importing %s failed; it is retried once its claim is stale", name)
        connection_drop_if_broken()  # a connection the database cut is not used again
        entry.update(status="error", error=f"{type(exc).__name__}: {exc}")
        return entry
    entry.update(status=result["status"], payments=result["payments"], ledger=result.get("ledger"))
    folder = bank_dir("failed" if result["status"] == "rejected" else "archive")
    moved = file_move_keeping(claimed, folder, name)
    folder_remove_if_empty(claimed.parent)
    if result["status"] == "rejected":
        write_atomic(
            moved.with_name(moved.name + ".error.json"),
            json.dumps(result, indent=2, default=str).encode(),
        )
    return entry
