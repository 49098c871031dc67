"""The per-company sFTP tree under $LEDGER_DATA_DIR: inbox in; outbox, archive and failed out.

Files we hand to clients are written atomically (a temporary name, then rename) and never rewritten.
"""

import itertools
import math
import os
import re
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

FOLDERS = ("inbox", "outbox", "archive", "failed")


def sftp_root() -> Path:
    return Path(settings.LEDGER_DATA_DIR) / "sftp"


def claims_dir(company_no: str) -> Path:
    """Where the inbox watcher keeps a client's claimed files while it imports them: beside `sftp/` on
    the same file system (so that claiming stays one atomic rename), outside the client's chroot (so
    that the client never sees a half-imported file, nor a folder it may not touch)."""
    if not company_no.isdigit():
        raise ValueError(f"company number must be digits, got {company_no!r}")
    return Path(settings.LEDGER_DATA_DIR) / "claims" / company_no


def company_dir(company_no: str, folder: str) -> Path:
    if folder not in FOLDERS:
        raise ValueError(f"unknown folder {folder!r}")
    if not company_no.isdigit():
        raise ValueError(f"company number must be digits, got {company_no!r}")
    path = sftp_root() / company_no / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, content: bytes, *, overwrite: bool = True) -> Path:
    """Write content under a temporary name in the same folder, fsync it, then rename it into place (and
    fsync the folder, so the name survives a crash too): whoever looks sees the whole file or none, even
    when the disk fills up or the process dies half-way (docs/reliability.md). Without `overwrite`, an
    existing file is never replaced (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path


class AtomicFileSystemStorage(FileSystemStorage):
    """Django's FileSystemStorage with every file written by write_atomic (never over an existing one):
    the document archive never holds a half-written PDF, whatever fails while it is written."""

    def _save(self, name, content):
        full_path = Path(self.path(name))
        content.seek(0)
        write_atomic(full_path, content.read(), overwrite=False)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        return str(name).replace("\\", "/")


# What an outbox file may be called: no separators, no leading dot (temporary files), no "..".
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def outbox_file(company_no: str, name: str) -> Path | None:
    """The outbox file by name, or None; never anything outside the ledger's outbox."""
    if not SAFE_FILE_NAME.match(name) or ".." in name:
        return None
    outbox = company_dir(company_no, "outbox").resolve()
    candidate = (outbox / name).resolve()
    if candidate.parent != outbox or not candidate.is_file():
        return None
    return candidate


# --- Claim folders: how one worker of several takes a file from a shared folder (the sFTP inbox, the
# bank inbox): it renames the file into a folder of its own under processing/ (a rename is atomic: of
# two workers one wins), whose mtime is the claim's time (a claim left too long is taken over).


def file_claim(source: Path, processing: Path, name: str | None = None) -> Path | None:
    """Rename `source` into a new claim folder under `processing` (as `name`, else its own name): the
    claimed path, or None when another worker took it first."""
    claim_dir = processing / uuid.uuid4().hex
    claim_dir.mkdir(parents=True)
    target = claim_dir / (name or source.name)
    try:
        os.rename(source, target)
    except FileNotFoundError:
        folder_remove_if_empty(claim_dir)
        return None
    return target


def claimed_files(entry: Path) -> list[Path]:
    """The files of a claim folder, or the entry itself when a file lies in processing/ directly (put
    there by hand, or claimed by an earlier layout)."""
    if not entry.is_dir():
        return [entry] if entry.is_file() else []
    try:
        return [path for path in sorted(entry.iterdir()) if path.is_file()]
    except FileNotFoundError:  # another worker took it over and removed it meanwhile
        return []


def mtime_or_never(path: Path) -> float:
    """The path's mtime; infinity (never stale) when another worker has just taken it away."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return math.inf


def file_move_keeping(source: Path, folder: Path, name: str | None = None) -> Path:
    """Move `source` into `folder` (as `name`, else its own name) without overwriting: a name already
    there gets a counter (`NAME.2.xml`). A link fails, rather than overwrites, when the name is taken."""
    name = name or source.name
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in itertools.count(1):
        target = folder / (name if n == 1 else f"{stem}.{n}{suffix}")
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        os.unlink(source)
        return target
    raise AssertionError("unreachable")


def folder_remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:  # not empty (a live claim), not a folder, or already removed by another worker
        pass
