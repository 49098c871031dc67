"""Fuzzing the bank-file parsers (issue 29): real samples and files our writers produce, mutated the ways
files get broken on the way (a byte changed, a digit changed, bytes lost or added, a line lost, doubled
or moved, the file cut short). Every mutated file is either read, with amounts that are money, or refused
with the parser's coded error naming the line when it knows it; never any other exception.

The examples are derandomized, so a run in CI is the same run every time; FUZZ_EXAMPLES raises the count
for a longer local search (`FUZZ_EXAMPLES=20000 pytest tests/ledger/test_bankfiles_fuzz.py`). What such a
search found is kept below as explicit examples."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.payments.bankfiles import autogiro, betalingsservice, parse_bank_file
from ledger.payments.bankfiles.model import BankFileError
from ledger.payments.direct_debit.avtalegiro import parse_avtalegiro_agreements
from ledger.payments.direct_debit.common import AgreementFileRejected

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
DAY = date(2026, 3, 2)

REQUEST = autogiro.PaymentRequest(
    payer_number="198112289874", amount=Decimal("1234.50"), debit_date=date(2026, 3, 10), reference="12345678901234"
)
COLLECTION = betalingsservice.Collection(
    customer_no="4711", agreement_no="123456789", amount=Decimal("499.95"), debit_date=date(2026, 3, 10),
    reference="000047110001",
)  # fmt: skip


def _samples(folder: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((SAMPLES / folder).iterdir())]


# parser name -> (the parser, the error it refuses a file with, the files to start from)
PARSERS = {
    "bank_file": (
        parse_bank_file,
        BankFileError,
        _samples("bgmax") + _samples("camt054") + [(SAMPLES / "ocr-giro" / "ocr_giro_transactions.txt").read_bytes()],
    ),
    "avtalegiro_agreements": (
        parse_avtalegiro_agreements,
        AgreementFileRejected,
        [(SAMPLES / "ocr-giro" / "avtalegiro_agreements.txt").read_bytes()],
    ),
    "autogiro_mandates": (
        autogiro.parse_mandates,
        BankFileError,
        [autogiro.mandate_notices_file(day=DAY, customer_number="123456", bankgiro="50501055",
                                       mandates=[("198112289874", "198112289874", "32"), ("5566778899", "", "02")])],
    ),  # fmt: skip
    "autogiro_payment_results": (
        autogiro.parse_payment_results,
        BankFileError,
        [autogiro.payment_results_file(day=DAY, customer_number="123456", bankgiro="50501055",
                                       results=[(REQUEST, "0"), (REQUEST, "1")])],
    ),  # fmt: skip
    "autogiro_payment_requests": (
        autogiro.parse_payment_requests,
        BankFileError,
        [autogiro.payment_requests_file(write_date=DAY, customer_number="123456", bankgiro="50501055",
                                        requests=[REQUEST], cancellations=[REQUEST])],
    ),  # fmt: skip
    "autogiro_mandate_requests": (
        autogiro.parse_mandate_requests,
        BankFileError,
        [autogiro.mandate_requests_file(write_date=DAY, customer_number="123456", bankgiro="50501055",
                                        mandates=[autogiro.MandateRequest(payer_number="198112289874",
                                                  clearing="5000", account="1234567", national_id="198112289874")])],
    ),  # fmt: skip
    "betalingsservice_delivery": (
        betalingsservice.parse_delivery,
        BankFileError,
        [betalingsservice.information_delivery(cvr="12345678", pbs_no="87654321", debtor_group="00001", day=DAY,
                                               agreements=[("0231", "4711", "123456789")],
                                               payments=[("0236", COLLECTION), ("0237", COLLECTION)])],
    ),  # fmt: skip
}


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["byte", "digit", "delete", "insert", "line", "cut"]))
        if kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "digit":  # the likeliest damage to a fixed-width record: a field's digit or space
            data[at] = ord(draw(st.sampled_from("0123456789 -+.,AZ")))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif kind == "cut":
            del data[at:]
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            how = draw(st.sampled_from(["drop", "double", "move"]))
            if how == "drop":
                del lines[i]
            elif how == "double":
                lines.insert(j, lines[i])
            else:
                lines.insert(j, lines.pop(i))
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def _amounts(parsed) -> list:
    """Every Decimal the parse gave, wherever it sits (payments, results, collections)."""
    found, stack = [], [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, Decimal):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, name) for name in item.__dataclass_fields__)
    return found


def read_or_refuse(name: str, data: bytes) -> None:
    parse, refusal, _ = PARSERS[name]
    try:
        parsed = parse(data)
    except refusal as exc:
        assert exc.code and exc.message, f"{name}: a refusal without its code or message: {exc!r}"
        return
    for amount in _amounts(parsed):
        assert amount.is_finite() and amount.as_tuple().exponent >= -2, f"{name}: {amount!r} is not money"


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_samples_themselves_are_read(name):
    parse, _, seeds = PARSERS[name]
    for seed in seeds:
        parse(seed)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_mutated_file_is_read_or_refused_with_a_coded_error(name):
    @FUZZ_SETTINGS
    @given(data=mutated(PARSERS[name][2]))
    def check(data):
        read_or_refuse(name, data)

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
@pytest.mark.parametrize("data", [b"", b"\n", b"\x00" * 80, b"\xef\xbb\xbf", "ÅÄÖ\n".encode("utf-16")])
def test_an_empty_or_foreign_file_is_refused_with_a_coded_error(name, data):
    read_or_refuse(name, data)


# What the longer searches found, kept: a superscript digit passes str.isdigit() and fails int() (every
# fixed-width numeric field), and a NUL byte, which PostgreSQL cannot store (a reference holding one
# failed the payment import with a database error).
@pytest.mark.parametrize("name", sorted(PARSERS))
@pytest.mark.parametrize("damage", ["superscript digit", "NUL byte"])
def test_what_the_fuzzing_found_is_refused_with_a_coded_error(name, damage):
    parse, refusal, seeds = PARSERS[name]
    seed = seeds[0]
    lines = seed.split(b"\n")
    second = bytearray(lines[1])
    at = next(i for i, byte in enumerate(second) if chr(byte).isdigit() and i > 8)
    second[at : at + 1] = "²".encode("iso-8859-1") if damage == "superscript digit" else b"\x00"
    damaged = b"\n".join([lines[0], bytes(second), *lines[2:]])
    if damage == "NUL byte":
        with pytest.raises(refusal) as refused:
            parse(damaged)
        assert (refused.value.code, refused.value.line) == ("malformed", 2)
    else:
        read_or_refuse(name, damaged)
