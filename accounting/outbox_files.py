"""Reads of a ledger's sFTP folders for the 360 Files section: the outbox (what we hand the client)
and the state of the CUSIN inbox (waiting, importing, archived, failed).

Names are checked the way the REST API checks them (`ledger.outbox.outbox_file`): a download is only ever
a regular file directly in the ledger's own outbox.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cusin.inbox import INCOMPLETE_SUFFIXES, LEGACY_PROCESSING
from cusin.models import CusinFile
from ledger.models import Ledger
from ledger.outbox import SAFE_FILE_NAME, claims_dir, company_dir, outbox_file, sftp_root

# Outbox file kinds by name (first match wins); see README "Accounting files", "Settlement", payouts
# and direct debit for the names each writer gives its files.
OUTBOX_KINDS: list[tuple[str, re.Pattern]] = [
    ("cusin_receipt", re.compile(r"_receipt\.xml$")),
    ("cusin_errorlog", re.compile(r"_errorlog\.xml$")),
    ("bill_journal", re.compile(r"^BILLJOURNAL_")),
    ("customer_journal", re.compile(r"^CUSTOMERJOURNAL_")),
    ("accounting_detail", re.compile(r"^ACCOUNTINGDETAIL_")),
    ("sie4", re.compile(r"^SIE4_")),
    ("balance_report", re.compile(r"^BALANCEREPORT_")),
    ("settlement_payment", re.compile(r"^(SETTLE-|OCRSETTLEMENT_)")),
    ("payout", re.compile(r"^PAYOUT-")),
    ("direct_debit", re.compile(r"^(AVTALEGIRO|AUTOGIRO|BETALINGSSERVICE)_")),
]
OTHER = "other"
OUTBOX_KIND_NAMES = [name for name, _ in OUTBOX_KINDS] + [OTHER]

_DIGIT_RUNS = re.compile(r"\d+")


def outbox_kind(name: str) -> str:
    return next((kind for kind, pattern in OUTBOX_KINDS if pattern.search(name)), OTHER)


def file_date(name: str) -> date | None:
    """The day a file is about, from the first YYYYMMDD (or YYYYMMDDhhmmss) in its name."""
    for run in _DIGIT_RUNS.findall(name):
        if len(run) in (8, 14):
            try:
                return date(int(run[:4]), int(run[4:6]), int(run[6:8]))
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class FolderFile:
    name: str
    kind: str
    size: int
    modified_at: datetime
    day: date  # from the name, else the day it was written

    @classmethod
    def of(cls, path: Path, kind: str) -> "FolderFile":
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        return cls(path.name, kind, stat.st_size, modified, file_date(path.name) or modified.date())


def outbox_files(
    *, ledger: Ledger, kind: str = "", start: date | None = None, end: date | None = None
) -> list[FolderFile]:
    """The ledger's outbox, newest day first, optionally of one kind and days in [start, end]."""
    outbox = company_dir(ledger.company_no, "outbox")
    files = []
    for path in outbox.iterdir():
        if not path.is_file() or not SAFE_FILE_NAME.match(path.name):
            continue  # temporary files (".name.tmp") are being written
        entry = FolderFile.of(path, outbox_kind(path.name))
        if kind and entry.kind != kind:
            continue
        if (start and entry.day < start) or (end and entry.day > end):
            continue
        files.append(entry)
    files.sort(key=lambda f: (f.day, f.name), reverse=True)
    return files


def outbox_download(*, ledger: Ledger, name: str) -> Path | None:
    """The ledger's outbox file by name, or None (never anything outside that folder)."""
    return outbox_file(ledger.company_no, name)


@dataclass(frozen=True)
class InboxFile:
    name: str
    state: str  # waiting, uploading, importing, archived, failed
    size: int
    modified_at: datetime
    cusin_status: str  # the import's status where we have a record of it
    errorlog: str  # the error log's name in the outbox, if there is one
    errors: list[dict]  # the first errors of a failed file


def _folder(company_no: str, name: str) -> Path:
    return sftp_root() / company_no / name


def inbox_state(*, ledger: Ledger, limit: int = 200) -> dict[str, list[InboxFile]]:
    """The sFTP inbox of the ledger by state: files waiting (or still uploading), claimed and being
    imported, archived (accepted) and failed (rejected, with their error log); newest first, at most
    `limit` per state."""
    company_no = ledger.company_no
    outbox = company_dir(company_no, "outbox")
    found: dict[str, list[Path]] = {"waiting": [], "importing": [], "archived": [], "failed": []}
    for state, folder in (("waiting", "inbox"), ("archived", "archive"), ("failed", "failed")):
        root = _folder(company_no, folder)
        if root.is_dir():
            found[state] = [p for p in root.iterdir() if p.is_file() and not p.name.endswith("_errorlog.xml")]
    for processing in (claims_dir(company_no), _folder(company_no, LEGACY_PROCESSING)):
        if processing.is_dir():
            found["importing"] += [p for claim in processing.iterdir() if claim.is_dir() for p in claim.iterdir()]
    names = {p.name for paths in found.values() for p in paths}
    records = {}
    for record in CusinFile.objects.filter(ledger=ledger, file_name__in=names).order_by("received_at"):
        records[record.file_name] = record  # the latest import of a name
    result = {}
    for state, paths in found.items():
        entries = []
        for path in sorted(paths, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]:
            stat = path.stat()
            record = records.get(path.name)
            errorlog = f"{path.stem}_errorlog.xml"
            shown_state = state
            if state == "waiting" and (path.name.startswith(".") or path.name.endswith(INCOMPLETE_SUFFIXES)):
                shown_state = "uploading"
            entries.append(
                InboxFile(
                    name=path.name,
                    state=shown_state,
                    size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    cusin_status=record.status if record else "",
                    errorlog=errorlog if (outbox / errorlog).is_file() else "",
                    errors=(record.receipt.get("errors") or [])[:5] if record and state == "failed" else [],
                )
            )
        result[state] = entries
    return result
