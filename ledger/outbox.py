"""The per-company sFTP tree under $LEDGER_DATA_DIR: inbox in; outbox, archive and failed out.

Files we hand to clients are written atomically (a temporary name, then rename) and never rewritten.
"""

import os
import re
import tempfile
from pathlib import Path

from django.conf import settings

FOLDERS = ("inbox", "outbox", "archive", "failed")


def sftp_root() -> Path:
    return Path(settings.LEDGER_DATA_DIR) / "sftp"


def company_dir(company_no: str, folder: str) -> Path:
    if folder not in FOLDERS:
        raise ValueError(f"unknown folder {folder!r}")
    if not company_no.isdigit():
        raise ValueError(f"company number must be digits, got {company_no!r}")
    path = sftp_root() / company_no / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, content: bytes) -> Path:
    """Write content under a temporary name in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


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
