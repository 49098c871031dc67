"""The Autogiro and Betalingsservice files: what we write reads back field by field, what the banks send
is checked whole, and a broken file is refused with a coded error naming its line."""

from datetime import date
from decimal import Decimal

import pytest

from ledger.payments.bankfiles import autogiro, betalingsservice
from ledger.payments.bankfiles.model import BankFileError

DAY = date(2026, 3, 2)
REQ = autogiro.PaymentRequest(
    payer_number="198112289874",
    amount=Decimal("1234.50"),
    debit_date=date(2026, 3, 10),
    reference="12345678901234",
)
REQ2 = autogiro.PaymentRequest(
    payer_number="5566778899", amount=Decimal("0.01"), debit_date=date(2026, 3, 11), reference="99"
)


def lines(data: bytes) -> list[str]:
    return data.decode("iso-8859-1").splitlines()


# --- Autogiro --------------------------------------------------------------------------------------------


def test_autogiro_payment_requests_are_80_column_records_at_bankgirots_positions():
    data = autogiro.payment_requests_file(
        write_date=DAY, customer_number="123456", bankgiro="5050-1055", requests=[REQ, REQ2]
    )
    opening, first, second = lines(data)
    assert {len(line) for line in lines(data)} == {80}
    assert opening == "01" + "20260302" + "AUTOGIRO" + " " * 44 + "123456" + "0050501055" + "  "
    assert first[:31] == "82" + "20260310" + "0" + "   " + " " + "0000198112289874"
    assert (first[31:43], first[43:53], first[53:69]) == ("000000123450", "0050501055", "12345678901234  ")
    assert second[31:43] == "000000000001"
    back = autogiro.parse_payment_requests(data)
    assert (back.write_date, back.customer_number, back.bankgiro) == (DAY, "123456", "50501055")
    assert back.requests == (REQ, REQ2) and back.cancellations == ()
    assert autogiro.kind_of_file(data) == "requests"


def test_autogiro_cancellations_repeat_the_payment_in_tk23():
    data = autogiro.payment_requests_file(
        write_date=DAY, customer_number="123456", bankgiro="50501055", cancellations=[REQ]
    )
    _, cancel = lines(data)
    assert cancel == (
        "23"
        + "0050501055"
        + "0000198112289874"
        + "20260310"
        + "000000123450"
        + "82"
        + " " * 8
        + "12345678901234  "
        + " " * 6
    )
    assert autogiro.parse_payment_requests(data).cancellations == (REQ,)


@pytest.mark.parametrize(
    "bad",
    [
        {"payer_number": "12345678901234567"},  # 17 digits
        {"payer_number": "19811228-9874"},
        {"amount": Decimal("0.00")},
        {"amount": Decimal("1.005")},
        {"amount": Decimal("10000000000.00")},  # 13 digits of öre
    ],
)
def test_autogiro_refuses_to_write_what_bankgirot_cannot_read(bad):
    request = autogiro.PaymentRequest(**{**REQ.__dict__, **bad})
    with pytest.raises(ValueError):
        autogiro.payment_requests_file(
            write_date=DAY, customer_number="123456", bankgiro="50501055", requests=[request]
        )


def test_a_bankgiro_number_has_7_or_8_digits():
    assert autogiro.bankgiro_digits("505-1055") == "5051055"
    for bad in ("", "123456", "123456789", "NO9386011117947", "5050 1055x"):
        with pytest.raises(ValueError):
            autogiro.bankgiro_digits(bad)


def test_autogiro_mandate_notices_round_trip():
    data = autogiro.mandate_notices_file(
        day=DAY,
        customer_number="123456",
        bankgiro="50501055",
        mandates=[("198112289874", "198112289874", "32"), ("5566778899", "", "02"), ("7", "", "20")],
    )
    assert {len(line) for line in lines(data)} == {80}
    assert lines(data)[0][44:53] == "AG-MEDAVI"
    parsed = autogiro.parse_mandates(data)
    assert (parsed.date, parsed.bankgiro) == (DAY, "50501055")
    assert [(m.line, m.payer_number, m.national_id, m.comment_code, m.active) for m in parsed.mandates] == [
        (2, "198112289874", "198112289874", "32", True),
        (3, "5566778899", "", "02", False),
        (4, "7", "", "20", False),
    ]
    assert parsed.mandates[1].text == "cancelled by the payer or the payer's bank"


def test_autogiro_payment_results_round_trip_with_their_result_codes():
    data = autogiro.payment_results_file(
        day=DAY, customer_number="123456", bankgiro="50501055", results=[(REQ, "0"), (REQ2, "1")]
    )
    assert {len(line) for line in lines(data)} == {80}
    parsed = autogiro.parse_payment_results(data)
    assert parsed.bankgiro == "50501055"
    assert [(r.line, r.payer_number, r.amount, r.reference, r.result_code) for r in parsed.results] == [
        (3, "198112289874", Decimal("1234.50"), "12345678901234", "0"),
        (4, "5566778899", Decimal("0.01"), "99", "1"),
    ]
    assert parsed.results[1].text == "insufficient funds (täckning saknas)"


def _results() -> list[str]:
    return lines(
        autogiro.payment_results_file(
            day=DAY, customer_number="123456", bankgiro="50501055", results=[(REQ, "0"), (REQ2, "2")]
        )
    )


def _join(records: list[str]) -> bytes:
    return ("\n".join(records) + "\n").encode("iso-8859-1")


@pytest.mark.parametrize(
    "mutate, code, line",
    [
        (lambda r: r[:-1], "malformed", 4),  # truncated: no closing record
        (lambda r: [r[0], r[1], r[2], r[4]], "record_count_mismatch", 2),  # a payment left out
        (
            lambda r: [r[0], r[1].replace("000000000000123450SEK", "000000000000123451SEK"), *r[2:]],
            "control_total_mismatch",
            2,
        ),
        (lambda r: [r[0], r[1], r[2][:2] + "20261332" + r[2][10:], *r[3:]], "bad_date", 3),
        (lambda r: [r[0], r[1], r[2][:79] + "7", *r[3:]], "malformed", 3),  # unknown result code
        (lambda r: [r[0], r[1], r[2] + " ", *r[3:]], "malformed", 3),  # 81 characters
        (lambda r: [r[0], r[1], "32" + r[2][2:], *r[3:]], "not_supported", 3),  # an outgoing payment
        (
            lambda r: [r[0], r[1], r[2], r[3], r[4][:20] + "000000000003" + r[4][32:]],
            "record_count_mismatch",
            5,
        ),
        (lambda r: [r[0].replace("BET. SPEC", "BET. XXXX"), *r[1:]], "not_a_result_file", 1),
    ],
)
def test_a_broken_payment_specification_is_refused_whole(mutate, code, line):
    with pytest.raises(BankFileError) as excinfo:
        autogiro.parse_payment_results(_join(mutate(_results())))
    assert (excinfo.value.code, excinfo.value.line) == (code, line)


def test_a_broken_mandate_file_is_refused_whole():
    records = lines(
        autogiro.mandate_notices_file(
            day=DAY,
            customer_number="123456",
            bankgiro="50501055",
            mandates=[("1", "", "32"), ("2", "", "33")],
        )
    )
    for broken, code in (
        (records[:-1], "malformed"),
        ([*records[:2], records[3]], "record_count_mismatch"),
        ([records[0], "74" + records[1][2:], *records[2:]], "malformed"),
        (_results(), "not_a_mandate_file"),
    ):
        with pytest.raises(BankFileError) as excinfo:
            autogiro.parse_mandates(_join(broken))
        assert excinfo.value.code == code


# --- Betalingsservice ---------------------------------------------------------------------------------------

COLLECTION = betalingsservice.Collection(
    customer_no="4711",
    agreement_no="123456789",
    amount=Decimal("499.95"),
    debit_date=date(2026, 3, 10),
    reference="000047110001",
)
COLLECTION2 = betalingsservice.Collection(
    customer_no="815", agreement_no="", amount=Decimal("100.00"), debit_date=date(2026, 3, 11), reference="2"
)


def test_the_collection_delivery_is_128_column_records_at_nets_positions():
    data = betalingsservice.collection_delivery(
        cvr="12345678",
        pbs_no="87654321",
        debtor_group="00001",
        delivery_id="42",
        day=DAY,
        collections=[COLLECTION, COLLECTION2],
    )
    start, section, first, second, section_end, end = lines(data)
    assert {len(line) for line in lines(data)} == {128}
    assert start[:55] == "BS002" + "12345678" + "BS1" + "0601" + "0000000042" + " " * 19 + "020326"
    assert section[:25] == "BS012" + "87654321" + "0112" + "   " + "00001"
    assert first[:105] == (
        "BS042"
        + "87654321"
        + "0280"
        + "00000"
        + "00001"
        + "000000000004711"
        + "123456789"
        + "10032026"
        + "1"
        + "0000000049995"
        + "000047110001".ljust(30)
        + "00"
    )
    assert second[42:51] == "000000000"  # no agreement number known
    assert section_end[31:57] == "00000000002" + "000000000059995"
    assert end[20:57] == "00000000001" + "00000000002" + "000000000059995"
    parsed = betalingsservice.parse_delivery(data)
    assert (parsed.delivery_type, parsed.delivery_id, parsed.pbs_numbers) == (
        "0601",
        "0000000042",
        ("87654321",),
    )
    assert [
        (p.code, p.customer_no, p.agreement_no, p.amount, p.debit_date, p.reference) for p in parsed.payments
    ] == [
        ("0280", "4711", "123456789", Decimal("499.95"), date(2026, 3, 10), "000047110001"),
        ("0280", "815", "0", Decimal("100.00"), date(2026, 3, 11), "2"),
    ]


def _information() -> list[str]:
    return lines(
        betalingsservice.information_delivery(
            cvr="12345678",
            pbs_no="87654321",
            debtor_group="00001",
            day=DAY,
            agreements=[("0231", "4711", "123456789"), ("0233", "815", "5")],
            payments=[("0236", COLLECTION), ("0237", COLLECTION2)],
        )
    )


def test_nets_agreement_and_payment_information_reads_with_its_codes():
    parsed = betalingsservice.parse_delivery(_join(_information()))
    assert [(a.code, a.customer_no, a.agreement_no, a.active) for a in parsed.agreements] == [
        ("0231", "4711", "123456789", True),
        ("0233", "815", "5", False),
    ]
    assert [(p.code, p.customer_no, p.amount, p.reference, p.text) for p in parsed.payments] == [
        ("0236", "4711", Decimal("499.95"), "000047110001", "automatic payment completed"),
        ("0237", "815", Decimal("100.00"), "2", "payment rejected"),
    ]


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda r: r[:-1], "malformed"),  # no delivery end
        (lambda r: [*r[:2], *r[3:]], "control_total_mismatch"),  # an agreement left out
        (lambda r: [*r[:6], r[6][:56] + "0000000049996" + r[6][69:], *r[7:]], "control_total_mismatch"),
        (lambda r: [*r[:2], r[2][:13] + "0299" + r[2][17:], *r[3:]], "not_supported"),
        (lambda r: [*r[:2], r[2][:49] + "320226" + r[2][55:], *r[3:]], "bad_date"),
        (lambda r: [*r[:2], r[2] + "x", *r[3:]], "malformed"),  # 129 characters
        (lambda r: r[1:], "not_a_betalingsservice_file"),
        (lambda r: [r[0], *r[2:]], "malformed"),  # a record outside a section
    ],
)
def test_a_broken_delivery_is_refused_whole(mutate, code):
    with pytest.raises(BankFileError) as excinfo:
        betalingsservice.parse_delivery(_join(mutate(_information())))
    assert excinfo.value.code == code
