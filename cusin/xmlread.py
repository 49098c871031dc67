"""Hardened, streaming reading of CUSIN files.

No DTD, no entities, no network, a size limit; memory stays flat because elements are cleared as
soon as they are read. A file is read in three passes: the prolog and header, the schema validation,
then the records (only once the whole file is known to be valid).
"""

import functools
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from lxml import etree

XSD_DIR = Path(settings.BASE_DIR) / "xsd"
SUPPORTED_VERSIONS = ("2.0", "2.1")
PROLOG_LIMIT = 64 * 1024  # bytes read looking for the root element


class CusinFileError(Exception):
    """The file as a whole cannot be booked. `code` is one of the error log's codes."""

    def __init__(self, code: str, message: str, line: int | None = None):
        super().__init__(message)
        self.code, self.message, self.line = code, message, line


@dataclass(frozen=True)
class Header:
    version: str
    created: str
    company_no: str
    company_name: str
    distribution_date: str  # an ISO date or "AsSoonAsPossible"


def _parser_options(*, validating: bool = False) -> dict:
    options = {
        "no_network": True,
        "load_dtd": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }
    # libxml2 reports any well-formedness error as "no element found" when schema validation runs
    # with entity substitution off; check_prolog has already refused every DTD, so there are no
    # entities to substitute beyond the five predefined ones.
    if not validating:
        options["resolve_entities"] = False
    return options


def check_prolog(path: Path) -> None:
    """Refuse DTDs and entity declarations before any XML parser sees the file."""
    with path.open("rb") as handle:
        head = handle.read(PROLOG_LIMIT)
    root_start = re.search(rb"<[A-Za-z_]", head)
    prolog = head[: root_start.start()] if root_start else head
    if re.search(rb"<!DOCTYPE|<!ENTITY", prolog, re.IGNORECASE) or re.search(rb"<!ENTITY", head):
        raise CusinFileError(
            "ForbiddenXmlConstruct",
            "the file declares a DTD or entities; CUSIN files must not (XML entity attacks)",
        )
    if root_start is None:
        raise CusinFileError("MalformedXml", f"no root element in the first {PROLOG_LIMIT} bytes")


def _syntax_error(exc: etree.XMLSyntaxError) -> CusinFileError:
    line = exc.lineno or None
    message = re.sub(r"^line \d+: (b'(.*)'|(.*))$", lambda m: m.group(2) or m.group(3) or "", str(exc.msg))
    if "entity" in message.lower():
        return CusinFileError("ForbiddenXmlConstruct", f"entity reference refused: {message}", line)
    return CusinFileError("MalformedXml", f"not well-formed XML: {message}", line)


def read_header(path: Path) -> Header:
    """The root's attributes and the DistributionDate, without reading further."""
    attrs, distribution_date = None, None
    try:
        for event, element in etree.iterparse(str(path), events=("start", "end"), **_parser_options()):
            if attrs is None:
                if element.tag != "CUSIN":
                    raise CusinFileError(
                        "SchemaViolation",
                        f"root element is <{element.tag}>, expected <CUSIN>",
                        element.sourceline,
                    )
                attrs = dict(element.attrib)
            elif event == "end" and element.tag == "DistributionDate":
                child = next(iter(element), None)
                if child is not None:
                    distribution_date = (
                        "AsSoonAsPossible" if child.tag == "AsSoonAsPossible" else (child.text or "")
                    )
                break
            elif event == "start" and element.tag == "CUSINInfo":
                break
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    if attrs is None:
        raise CusinFileError("MalformedXml", "the file has no root element")
    version = attrs.get("Version", "")
    if version not in SUPPORTED_VERSIONS:
        raise CusinFileError(
            "SchemaViolation",
            f"unsupported CUSIN Version {version!r}; supported: {', '.join(SUPPORTED_VERSIONS)}",
            1,
        )
    return Header(
        version=version,
        created=attrs.get("CreatedDateTime", ""),
        company_no=attrs.get("CompanyNo", ""),
        company_name=attrs.get("CompanyName", ""),
        distribution_date=distribution_date or "",
    )


@functools.cache
def schema(version: str) -> etree.XMLSchema:
    parser = etree.XMLParser(**_parser_options())
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"cusin-{version}.xsd"), parser))


@dataclass
class FileIndex:
    """Where each number first appears in a file, and its invoice count.

    An invoice number, payment reference or customer number seen again later in the file is a
    repeat. The booking fills this in as it reads the records, in file order, so that a number's
    first line is known before any repeat of it is booked, on a re-run too. The validation pass
    counts the invoices only.
    """

    invoices: int = 0
    first_invoice_line: dict = field(default_factory=dict)
    first_ref_line: dict = field(default_factory=dict)
    first_customer_line: dict = field(default_factory=dict)


INVOICE_TAGS = ("InvoiceWithDistribution", "InvoiceWithoutDistribution")


def validate(path: Path, version: str) -> FileIndex:
    """Validate the whole file against its version's schema, streaming, and count its invoices."""
    index = FileIndex()
    etree.clear_error_log()
    # Only CUSINInfo ends reach Python: libxml2 validates everything else without a callback.
    context = etree.iterparse(
        str(path),
        events=("end",),
        tag="CUSINInfo",
        schema=schema(version),
        **_parser_options(validating=True),
    )
    try:
        for _, element in context:
            # By tag, not by position: libxml2 may report a content error only after this element's
            # end, so it may not be valid yet.
            for child in element:
                if child.tag == "Invoices":
                    index.invoices += sum(1 for invoice in child if invoice.tag in INVOICE_TAGS)
            _release(element)
    except etree.XMLSyntaxError as exc:
        last = exc.error_log.last_error
        if last is not None and last.domain_name == "SCHEMASV" and last.message == exc.msg:
            raise CusinFileError(
                "SchemaViolation",
                f"not valid against CUSIN {version}: {last.message}",
                _schema_error_line(path, version, last.message),
            ) from exc
        raise _syntax_error(exc) from exc
    return index


class _LineReader:
    """A file object that hands the parser one line per read and remembers the last lines."""

    def __init__(self, handle):
        self.handle, self.number, self.recent = handle, 0, deque(maxlen=500)

    def read(self, size: int = -1) -> bytes:
        line = self.handle.readline()
        if line:
            self.number += 1
            self.recent.append((self.number, line))
        return line


def _schema_error_line(path: Path, version: str, message: str) -> int | None:
    """The line of the first schema error.

    Streaming validation reports no line, and libxml2 raises a content error only once it has
    read on to the parent's end. So on this (rare) failure path the file is read again one line
    per read; from where it raised we look back for the element the message names.
    """
    named = re.match(r"Element '([^']+)'", message)
    value = re.search(r"value '([^']*)'", message)
    with path.open("rb") as handle:
        reader = _LineReader(handle)
        try:
            for _, element in etree.iterparse(
                reader, events=("end",), schema=schema(version), **_parser_options(validating=True)
            ):
                if element.tag == "CUSINInfo":
                    _release(element)
        except etree.XMLSyntaxError:
            if named:
                tag = f"<{named[1]}".encode()
                for number, text in reversed(reader.recent):
                    if tag in text and (value is None or value[1].encode() in text):
                        return number
            return reader.number
    return None


def iter_records(path: Path) -> Iterator[etree._Element]:
    """Yield each CUSINInfo element; it is cleared as soon as the caller moves on."""
    try:
        for _, element in etree.iterparse(str(path), events=("end",), tag="CUSINInfo", **_parser_options()):
            yield element
            _release(element)
    except etree.XMLSyntaxError as exc:  # validated before, so only a file changed under our feet
        raise _syntax_error(exc) from exc


def _release(element: etree._Element) -> None:
    element.clear(keep_tail=True)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]
