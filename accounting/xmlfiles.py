"""Our accounting XML schemas: loaded once with a hardened parser, every document validated before it
is written."""

import functools
from pathlib import Path

from django.conf import settings
from lxml import etree

from ledger.errors import LedgerError

XSD_DIR = Path(settings.BASE_DIR) / "xsd"
SCHEMAS = {
    "AccountingDetail": "accounting-detail-1.0.xsd",
    "BillJournal": "bill-journal-1.0.xsd",
    "CustomerJournal": "customer-journal-1.0.xsd",
    "BalanceReport": "balance-report-1.0.xsd",
}


class AccountingFileError(LedgerError):
    code = "accounting_file_error"


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


@functools.cache
def schema(root: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / SCHEMAS[root]), hardened_parser()))


def validate(content: bytes, root: str) -> None:
    """Raise AccountingFileError unless `content` is a valid `root` document."""
    document = etree.fromstring(content, hardened_parser()).getroottree()
    xsd = schema(root)
    if document.getroot().tag != root or not xsd.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(xsd.error_log)[:5])
        raise AccountingFileError(
            f"the {root} document fails its schema: {errors or 'wrong root element'}",
            code="accounting_file_invalid",
        )
