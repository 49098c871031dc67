"""Fuzzing the CUSIN import (issue 29): the documented example, the features file and the 2.1 additions,
mutated (an element's text replaced, keeping the XML well-formed; or as tests/ledger/test_bankfiles_fuzz.py
does: bytes, digits, lines lost, doubled or moved, the file cut short), go through the whole `cusin_import` with its receipt and error log written. Each is rejected whole
with a coded error and nothing booked, or booked with the journal in balance, every check of
verify_ledger ok and each refused record named in the error log; never an exception. Each example runs
in a savepoint rolled back after it."""

import itertools
import re
from pathlib import Path
from xml.sax.saxutils import escape

from django.db import transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cusin.services import cusin_import
from ledger.models import Customer, Invoice, JournalTransaction
from ledger.verify import ledger_verify
from tests.factories import LedgerFactory
from tests.ledger.test_bankfiles_fuzz import EXAMPLES, FUZZ_SETTINGS, mutated

from .test_import_cusin import DAY

DATA = Path(__file__).parent / "data"
SEEDS = [(DATA / name).read_bytes() for name in ("seed_example_2_0.xml", "features_2_0.xml", "additions_2_1.xml")]


TEXT = re.compile(rb">([^<>]+)<")
# What ends up in an element's text when an ERP exports it wrong: numbers in other forms, dates in other
# orders, signs, blanks, letters where digits go, long values, characters from other scripts.
VALUE = st.text(alphabet=st.sampled_from("0123456789 -+.,:/eEÅøß€²\t") | st.characters(codec="utf-8"), max_size=40)


@st.composite
def values_changed(draw) -> bytes:
    """A seed with one to four element texts replaced, still well-formed XML: the record-level checks'
    input rather than the parser's."""
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        spans = [m.span(1) for m in TEXT.finditer(data) if m.group(1).strip()]
        start, end = draw(st.sampled_from(spans))
        value = "".join(ch for ch in draw(VALUE) if ch.isprintable() or ch in "\t")
        data = data[:start] + escape(value).encode() + data[end:]
    return data


def booked(ledger) -> tuple[int, int, int]:
    return (
        Customer.objects.filter(ledger=ledger).count(),
        Invoice.objects.filter(ledger=ledger).count(),
        JournalTransaction.objects.filter(ledger=ledger).count(),
    )


def test_a_mutated_cusin_file_is_booked_or_refused_and_every_refusal_is_named(db, settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="9999", ledger_no="12345", country="SE")
    serials = itertools.count(1)

    @hypothesis_settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 10, 15))  # each one a whole import
    @given(data=st.one_of(values_changed(), mutated(SEEDS)))
    def check(data):
        path = tmp_path / f"CUSIN_9999_20260115083000_{next(serials)}.xml"
        path.write_bytes(data)
        with transaction.atomic():
            receipt = cusin_import(path=path, booking_date=DAY)
            for error in receipt["errors"]:
                assert error["code"] and error["message"], error
            if receipt["status"] == "rejected":
                assert receipt["errors"], receipt
                assert booked(ledger) == (0, 0, 0), receipt
            else:
                assert receipt["status"] in ("accepted", "partially_accepted"), receipt
                failed = receipt["failed_customers"] + receipt["failed_invoices"] + receipt["failed_credits"]
                # (one error can stand for a customer and the invoices it carries)
                assert bool(receipt["errors"]) == (failed > 0) == (receipt["status"] == "partially_accepted"), receipt
                for error in receipt["errors"]:  # a refused record is named by its number or its line
                    assert error.get("customer_no") or error.get("invoice_no") or error.get("line"), error
                assert [c for c in ledger_verify(ledger=ledger) if not c["ok"]] == []
            transaction.set_rollback(True)

    check()
