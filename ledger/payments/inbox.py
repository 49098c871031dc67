"""Bank payment files dropped in `$LEDGER_DATA_DIR/bank/inbox/` (the bank's delivery folder), imported by
the business day: each file is claimed by renaming it into `processing/` (of two workers one wins), imported
with `payment_file_import` (which finds the ledger by the receiving account and books nothing twice), and
moved to `archive/`, or to `failed/` with a `.error.json` beside it when the file was rejected whole."""

import json
import logging
import os
import uuid
from pathlib import Path

from django.conf import settings

from ledger.outbox import write_atomic
from ledger.payments.bank_import import payment_file_import

logger = logging.getLogger(__name__)

INCOMPLETE_SUFFIXES = (".part", ".tmp", ".filepart")


def bank_dir(folder: str) -> Path:
    path = Path(settings.LEDGER_DATA_DIR) / "bank" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def _move(source: Path, folder: Path, name: str) -> Path:
    """Move under its original name; a name already there gets a counter (`NAME.2.txt`)."""
    target, n = folder / name, 1
    while target.exists():
        n += 1
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
    os.replace(source, target)
    return target


def bank_inbox_scan() -> dict:
    """Import every complete file in the bank inbox; a failure of one file never blocks the next."""
    inbox = bank_dir("inbox")
    summary = {"files": []}
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(INCOMPLETE_SUFFIXES):
            continue
        claimed = bank_dir("processing") / f"{uuid.uuid4().hex}-{path.name}"
        try:
            os.rename(path, claimed)
        except FileNotFoundError:  # another worker took it
            continue
        entry = {"file": path.name}
        try:
            result = payment_file_import(path=claimed)
        except Exception as exc:  # an outage or a bug: keep the file where an operator sees it
            logger.exception("bank inbox: importing %s failed", path.name)
            entry.update(status="error", error=f"{type(exc).__name__}: {exc}")
            _move(claimed, bank_dir("failed"), path.name)
            summary["files"].append(entry)
            continue
        entry.update(status=result["status"], payments=result["payments"], ledger=result.get("ledger"))
        folder = bank_dir("failed" if result["status"] == "rejected" else "archive")
        moved = _move(claimed, folder, path.name)
        if result["status"] == "rejected":
            write_atomic(
                moved.with_name(moved.name + ".error.json"),
                json.dumps(result, indent=2, default=str).encode(),
            )
        summary["files"].append(entry)
    return summary
