"""Files for the outbox that belong to a transaction: the settlement's Balance Report and payment file,
the day's accounting files, direct-debit claim files. Written (fsynced) under a hidden name inside the
transaction, with a PendingOutboxFile row; put under their real name once it has committed
(outbox_files_publish, which the next run of the job also calls first). So a worker killed at any point
never leaves a file the bank or the client can fetch whose records were rolled back (a payment made
twice), nor a committed one that never appears (docs/reliability.md)."""

import os
from pathlib import Path

from ledger.errors import LedgerError
from ledger.models import Ledger, PendingOutboxFile
from ledger.outbox import write_atomic


class OutboxFileError(LedgerError):
    code = "outbox_file_error"


def outbox_file_write(*, ledger: Ledger, path: Path, content: bytes, written: list[Path]) -> None:
    """Inside the caller's transaction: write a file that must not exist yet under its hidden name and
    record it as pending; `written` collects the hidden paths so that a failed run can take them back."""
    if path.exists():  # files we hand out are never rewritten
        raise OutboxFileError(f"{path.name} is already in the outbox", code="outbox_file_exists")
    try:
        written.append(write_atomic(hidden_path(path), content))
    except OSError as exc:
        raise OutboxFileError(f"cannot write {path.name} to the outbox: {exc}", code="outbox_write_failed") from exc
    PendingOutboxFile.objects.create(ledger=ledger, path=str(path))


def hidden_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.pending")


def outbox_files_publish(*, ledger: Ledger) -> list[str]:
    """Put every committed file of the ledger still under its hidden name under its real one; returns
    their names. Run after each writing transaction, and first thing by the next run (recovery)."""
    published = []
    for pending in PendingOutboxFile.objects.filter(ledger=ledger).order_by("id"):
        path = Path(pending.path)
        hidden = hidden_path(path)
        if not path.exists():
            if not hidden.exists():
                raise OutboxFileError(
                    f"{path.name} was committed but its file is gone from the outbox", code="outbox_file_lost"
                )
            try:
                os.link(hidden, path)  # never over a file already there
            except FileExistsError:  # another worker's recovery published it a moment ago
                pass
        hidden.unlink(missing_ok=True)
        pending.delete()
        published.append(path.name)
    return published
