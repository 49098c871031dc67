"""Format detection and the one entry point, parse_bank_file()."""

from __future__ import annotations

import re

from .model import FORMAT_BGMAX, FORMAT_CAMT054, FORMAT_OCR_GIRO, FORMATS, BankFile, BankFileError, refuse_nul

_CAMT054_NS = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.054\.\d{3}\.\d{2}")
_BOMS = (b"\xef\xbb\xbf",)


def detect_format(data: bytes) -> str:
    """'ocr_giro', 'bgmax' or 'camt054', from the first record / the XML namespace."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("detect_format() needs bytes")
    head = bytes(data[:8192])
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        if _CAMT054_NS.search(head):
            return FORMAT_CAMT054
        raise BankFileError("unknown_format", "XML, but not an ISO 20022 camt.054 notification")
    # Nets files (OCR Giro and AvtaleGiro alike) open with a transmission start record.
    if head.startswith(b"NY000010"):
        return FORMAT_OCR_GIRO
    if head.startswith(b"01BGMAX"):
        return FORMAT_BGMAX
    raise BankFileError("unknown_format", "not a known bank payment file (OCR Giro, BgMax or camt.054)")


def parse_bank_file(data: bytes, *, format: str | None = None, name: str = "") -> BankFile:
    """Parse an incoming bank payment file into the common model; raises BankFileError."""
    from .bgmax import parse_bgmax
    from .camt054 import parse_camt054
    from .ocr_giro import parse_ocr_giro

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_bank_file() needs bytes")
    data = _text_bytes(data, name)
    fmt = format or detect_format(data)
    if fmt not in FORMATS:
        raise BankFileError("unknown_format", f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    parser = {FORMAT_OCR_GIRO: parse_ocr_giro, FORMAT_BGMAX: parse_bgmax, FORMAT_CAMT054: parse_camt054}[fmt]
    try:
        return parser(data, name=name)
    except BankFileError as exc:
        _raise_named(exc, name)


def _text_bytes(data, name: str) -> bytes:
    """The file's bytes, refused (naming the file) when they hold a NUL: no bank file does."""
    data = bytes(data)
    try:
        refuse_nul(data)
    except BankFileError as exc:
        _raise_named(exc, name)
    return data


def _raise_named(exc: BankFileError, name: str):
    """Raise the error again, naming the file it is about (as it is when there is no name)."""
    if not name:
        raise exc
    raise BankFileError(exc.code, f"{name}: {exc.message}", exc.line) from exc


class _ParsedFile:
    """A file parsed whole, seen as a stream (what `open_bank_file` gives for BgMax and camt.054)."""

    def __init__(self, bank_file: BankFile):
        self.bank_file = bank_file
        self.format, self.test, self.file_id = bank_file.format, bank_file.test, bank_file.file_id
        self.receiving_accounts = bank_file.receiving_accounts or tuple(
            sorted({p.receiving_account for p in bank_file.payments if p.receiving_account})
        )
        self.count = len(bank_file.payments)

    def references(self) -> set[str]:
        return {p.reference for p in self.bank_file.payments if p.reference}

    def payments(self):
        return iter(self.bank_file.payments)


class _NamedErrors:
    """A stream whose errors name the file, as parse_bank_file's do."""

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name
        self.format, self.test, self.file_id = stream.format, stream.test, stream.file_id
        self.receiving_accounts, self.count = stream.receiving_accounts, stream.count

    def references(self) -> set[str]:
        return self.stream.references()

    def payments(self):
        try:
            yield from self.stream.payments()
        except BankFileError as exc:
            _raise_named(exc, self.name)


def open_bank_file(data: bytes, *, format: str | None = None, name: str = ""):
    """Open an incoming bank payment file to be read payment by payment; raises BankFileError.

    The result has `format`, `test`, `file_id`, `receiving_accounts`, `count` (payments, as the file
    declares them), `references()` (the payment references, read ahead) and `payments()`, an iterator
    of BankPayment in file order. An OCR Giro file is parsed and checked while `payments()` runs
    (OcrGiroStream): its last checks fail only at its end, so the caller must be ready to undo what it
    did with the payments before. The other formats are parsed whole here.
    """
    from .ocr_giro import OcrGiroStream

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("open_bank_file() needs bytes")
    data = _text_bytes(data, name)
    fmt = format or detect_format(data)
    if fmt != FORMAT_OCR_GIRO:
        return _ParsedFile(parse_bank_file(data, format=fmt, name=name))
    try:
        return _NamedErrors(OcrGiroStream(data), name)
    except BankFileError as exc:
        _raise_named(exc, name)
