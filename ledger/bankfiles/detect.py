"""Format detection and the one entry point, parse_bank_file()."""

from __future__ import annotations

import re

from .model import FORMAT_BGMAX, FORMAT_CAMT054, FORMAT_OCR_GIRO, FORMATS, BankFile, BankFileError

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
    data = bytes(data)
    fmt = format or detect_format(data)
    if fmt not in FORMATS:
        raise BankFileError("unknown_format", f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    parser = {FORMAT_OCR_GIRO: parse_ocr_giro, FORMAT_BGMAX: parse_bgmax, FORMAT_CAMT054: parse_camt054}[fmt]
    try:
        return parser(data, name=name)
    except BankFileError as exc:
        if not name:
            raise
        raise BankFileError(exc.code, f"{name}: {exc.message}", exc.line) from exc
