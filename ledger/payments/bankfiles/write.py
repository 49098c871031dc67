"""Writers for the three incoming-payment formats, for tests and benchmarks.

Each writer takes payments as `PaymentSpec`s, `BankPayment`s or `(reference, amount)` tuples and
returns the file's bytes; `parse_bank_file()` reads them back to the same references, amounts, texts,
payer names and accounts (within what each format can carry, see each writer).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import netsgiro
from lxml import etree

from .model import CENT, BankPayment

__all__ = ["PaymentSpec", "write_bgmax", "write_camt054", "write_ocr_giro"]


@dataclass(frozen=True)
class PaymentSpec:
    """What a writer needs to know about one payment."""

    reference: str
    amount: Decimal
    payer_name: str = ""
    payer_account: str = ""
    text: str = ""
    archive_ref: str = ""


PaymentLike = PaymentSpec | BankPayment | tuple


def _specs(payments: Iterable[PaymentLike]) -> list[PaymentSpec]:
    out = []
    for p in payments:
        if isinstance(p, PaymentSpec):
            spec = p
        elif isinstance(p, BankPayment):
            spec = PaymentSpec(p.reference, p.amount, p.payer_name, p.payer_account, p.text, p.archive_ref)
        elif isinstance(p, tuple):
            spec = PaymentSpec(*p)
        else:
            raise TypeError(f"not a payment: {p!r}")
        if isinstance(spec.amount, float):
            raise TypeError("amounts must be Decimal, not float")
        amount = Decimal(spec.amount)
        if amount.quantize(CENT) != amount:
            raise ValueError(f"amount {amount} has more than 2 decimals")
        out.append(
            PaymentSpec(
                reference=spec.reference or "",
                amount=amount.quantize(CENT),
                payer_name=spec.payer_name or "",
                payer_account=spec.payer_account or "",
                text=spec.text or "",
                archive_ref=spec.archive_ref or "",
            )
        )
    return out


def _minor(amount: Decimal) -> int:
    return int(amount.quantize(CENT) * 100)


def _digits_only(value: str, length: int, what: str) -> str:
    if value and (not value.isdigit() or len(value) > length):
        raise ValueError(f"{what} must be at most {length} digits, got {value!r}")
    return value.zfill(length)


# --- Nets OCR Giro ------------------------------------------------------------------------------


def write_ocr_giro(
    payments: Iterable[PaymentLike],
    *,
    receiving_account: str,
    nets_date: date,
    transmission_number: str = "0000001",
    assignment_number: str = "0000001",
    agreement_id: str = "000000000",
    data_transmitter: str = "00008080",
    data_recipient: str = "00000000",
) -> bytes:
    """An OCR Giro transmission (service code 09) with one assignment, built with netsgiro.

    Amounts must be positive. `reference` is the KID (digits, max 25). `text` (max 40 characters)
    makes it a "purchase with text" transaction (type 21) with an amount item 3; otherwise type 10.
    `payer_account` (11 digits) is the debit account. OCR Giro has no payer name: it is dropped.
    `archive_ref`, if 9 digits, is written as the bank's archive reference.
    """
    _digits_only(receiving_account, 11, "receiving_account")
    transmission = netsgiro.Transmission(
        number=transmission_number,
        data_transmitter=data_transmitter,
        data_recipient=data_recipient,
        date=nets_date,
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id=agreement_id,
        number=assignment_number,
        account=receiving_account.zfill(11),
        date=nets_date,
    )
    for number, spec in enumerate(_specs(payments), 1):
        if spec.amount <= 0:
            raise ValueError(f"OCR Giro amounts must be positive, got {spec.amount}")
        if spec.reference and (not spec.reference.isdigit() or len(spec.reference) > 25):
            raise ValueError(f"a KID is at most 25 digits, got {spec.reference!r}")
        if len(spec.text) > 40:
            raise ValueError("OCR Giro text is at most 40 characters")
        archive = (
            spec.archive_ref if spec.archive_ref.isdigit() and len(spec.archive_ref) == 9 else f"{number:09d}"
        )
        assignment.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=(
                    netsgiro.TransactionType.PURCHASE_WITH_TEXT
                    if spec.text
                    else netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT
                ),
                number=number,
                date=nets_date,
                amount=spec.amount,
                kid=spec.reference,
                reference=archive,
                text=spec.text or None,
                centre_id="13",
                day_code=nets_date.day,
                partial_settlement_number=1,
                partial_settlement_serial_number="00001",
                sign="0",
                form_number="0" * 10,
                bank_date=nets_date,
                debit_account=_digits_only(spec.payer_account, 11, "payer_account"),
                filler="0" * 7,
            )
        )
    return (transmission.to_ocr() + "\n").encode("iso-8859-1")


# --- Bankgirot BgMax ----------------------------------------------------------------------------


def _bgmax_line(*parts: str) -> str:
    line = "".join(parts)
    if len(line) > 80:
        raise ValueError(f"BgMax record longer than 80 characters: {line!r}")
    return line.ljust(80)


def write_bgmax(
    payments: Iterable[PaymentLike],
    *,
    receiving_bankgiro: str,
    payment_date: date,
    currency: str = "SEK",
    created: datetime | None = None,
    test: bool = False,
    deposit_serial: int = 1,
    receiving_bank_account: str = "",
    line_ending: str = "\r\n",
) -> bytes:
    """A BgMax file with one deposit (TK05 ... TK15) of the given payments.

    A digit `reference` is written as an OCR reference (code 2), another reference as a plain one
    (code 4, read back as text), none as code 0. Negative amounts become TK21 deductions. Each text
    line becomes TK25 records (50 characters each), `payer_name` a TK26 (35 + 35 characters),
    `payer_account` (up to 10 digits) the sender bankgiro, a digit `archive_ref` (max 12) the BGC
    serial number.
    """
    created = created or datetime.combine(payment_date, time(6, 0))
    lines = [
        _bgmax_line("01", "BGMAX".ljust(20), "01", created.strftime("%Y%m%d%H%M%S%f"), "T" if test else "P"),
        _bgmax_line("05", _digits_only(receiving_bankgiro, 10, "receiving_bankgiro"), " " * 10, currency),
    ]
    n20 = n21 = 0
    total = Decimal("0.00")
    specs = _specs(payments)
    for number, spec in enumerate(specs, 1):
        tk = "20" if spec.amount >= 0 else "21"
        if tk == "20":
            n20 += 1
        else:
            n21 += 1
        total += spec.amount
        ref = spec.reference
        if len(ref) > 25:
            raise ValueError(f"BgMax references are at most 25 characters: {ref!r}")
        ref_code = "2" if ref.isdigit() else ("4" if ref else "0")
        serial = (
            spec.archive_ref if spec.archive_ref.isdigit() and len(spec.archive_ref) <= 12 else str(number)
        )
        lines.append(
            _bgmax_line(
                tk,
                _digits_only(spec.payer_account, 10, "payer_account"),
                ref.rjust(25) if ref_code == "2" else ref.ljust(25),
                f"{_minor(abs(spec.amount)):018d}",
                ref_code,
                "1",  # channel: electronic payment from a bank
                serial.zfill(12),
                "0",  # no image
                "0" if tk == "21" else "",  # deduction code
            )
        )
        for text_line in spec.text.splitlines():
            for chunk in textwrap.wrap(text_line, 50) or [""]:
                lines.append(_bgmax_line("25", chunk))
        if spec.payer_name:
            name = spec.payer_name
            lines.append(_bgmax_line("26", name[:35].ljust(35), name[35:70]))
    if total < 0:
        raise ValueError(f"a BgMax deposit cannot be negative, got {total}")
    account = _digits_only(receiving_bank_account, 35, "receiving_bank_account")
    lines.append(
        _bgmax_line(
            "15",
            account,
            f"{payment_date:%Y%m%d}",
            f"{deposit_serial:05d}",
            f"{_minor(total):018d}",
            currency,
            f"{len(specs):08d}",
            " ",
        )
    )
    lines.append(_bgmax_line("70", f"{n20:08d}", f"{n21:08d}", f"{0:08d}", f"{1:08d}"))
    return (line_ending.join(lines) + line_ending).encode("iso-8859-1")


# --- ISO 20022 camt.054 -------------------------------------------------------------------------


def write_camt054(
    payments: Iterable[PaymentLike],
    *,
    receiving_account: str,
    booking_date: date,
    value_date: date | None = None,
    currency: str = "EUR",
    msg_id: str = "MSG-1",
    created: datetime | None = None,
    version: int = 4,
    batch: bool = True,
) -> bytes:
    """A camt.054.001.0<version> credit notification (versions 2-8).

    With `batch` one entry carries all payments as TxDtls (Btch/NbOfTxs); otherwise one entry each.
    Amounts must be positive. `reference` becomes RmtInf/Strd/CdtrRefInf/Ref (type SCOR), each text
    line an RmtInf/Ustrd, `archive_ref` (or "<msg_id>-<n>") the TxDtls Refs/AcctSvcrRef.
    """
    if version not in range(2, 9):
        raise ValueError("camt.054 versions 2 to 8 are supported")
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version:02d}"
    value_date = value_date or booking_date
    created = created or datetime.combine(booking_date, time(6, 0))
    specs = _specs(payments)
    for spec in specs:
        if spec.amount <= 0:
            raise ValueError(f"camt.054 credit amounts must be positive, got {spec.amount}")

    def el(parent, tag, text=None, **attrib):
        node = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
        if text is not None:
            node.text = text
        return node

    def account(parent, tag, ident):
        acct = el(parent, tag)
        id_ = el(acct, "Id")
        if ident[:2].isalpha() and ident[2:4].isdigit() and ident.isalnum() and 15 <= len(ident) <= 34:
            el(id_, "IBAN", ident)
        else:
            el(el(id_, "Othr"), "Id", ident)
        return acct

    root = etree.Element(f"{{{ns}}}Document", nsmap={None: ns})
    msg = el(root, "BkToCstmrDbtCdtNtfctn")
    header = el(msg, "GrpHdr")
    el(header, "MsgId", msg_id)
    el(header, "CreDtTm", created.isoformat(timespec="seconds"))
    ntfctn = el(msg, "Ntfctn")
    el(ntfctn, "Id", msg_id)
    el(ntfctn, "CreDtTm", created.isoformat(timespec="seconds"))
    account(ntfctn, "Acct", receiving_account)

    groups = [specs] if batch else [[s] for s in specs]
    groups = [g for g in groups if g]
    total = sum((s.amount for s in specs), Decimal("0.00"))
    summary = el(el(ntfctn, "TxsSummry"), "TtlCdtNtries")
    el(summary, "NbOfNtries", str(len(groups)))
    el(summary, "Sum", str(total))

    number = 0
    for entry_no, group in enumerate(groups, 1):
        entry = el(ntfctn, "Ntry")
        el(entry, "NtryRef", f"{msg_id}-E{entry_no}")
        el(entry, "Amt", str(sum((s.amount for s in group), Decimal("0.00"))), Ccy=currency)
        el(entry, "CdtDbtInd", "CRDT")
        sts = el(entry, "Sts")
        if version >= 8:
            el(sts, "Cd", "BOOK")
        else:
            sts.text = "BOOK"
        el(el(entry, "BookgDt"), "Dt", booking_date.isoformat())
        el(el(entry, "ValDt"), "Dt", value_date.isoformat())
        el(entry, "AcctSvcrRef", f"{msg_id}-E{entry_no}")
        domain = el(el(entry, "BkTxCd"), "Domn")
        el(domain, "Cd", "PMNT")
        family = el(domain, "Fmly")
        el(family, "Cd", "RCDT")
        el(family, "SubFmlyCd", "ESCT")
        details = el(entry, "NtryDtls")
        el(el(details, "Btch"), "NbOfTxs", str(len(group)))
        for spec in group:
            number += 1
            tx = el(details, "TxDtls")
            refs = el(tx, "Refs")
            el(refs, "AcctSvcrRef", spec.archive_ref or f"{msg_id}-{number}")
            el(refs, "EndToEndId", "NOTPROVIDED")
            if version >= 4:
                el(tx, "Amt", str(spec.amount), Ccy=currency)
                el(tx, "CdtDbtInd", "CRDT")
            el(el(el(tx, "AmtDtls"), "TxAmt"), "Amt", str(spec.amount), Ccy=currency)
            if spec.payer_name or spec.payer_account:
                parties = el(tx, "RltdPties")
                if spec.payer_name:
                    debtor = el(parties, "Dbtr")
                    el(el(debtor, "Pty") if version >= 8 else debtor, "Nm", spec.payer_name[:140])
                if spec.payer_account:
                    account(parties, "DbtrAcct", spec.payer_account)
            if spec.reference or spec.text:
                rmt = el(tx, "RmtInf")
                for text_line in spec.text.splitlines():
                    el(rmt, "Ustrd", text_line[:140])
                if spec.reference:
                    if len(spec.reference) > 35:
                        raise ValueError(f"a creditor reference is at most 35 characters: {spec.reference!r}")
                    cri = el(el(rmt, "Strd"), "CdtrRefInf")
                    el(el(el(cri, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
                    el(cri, "Ref", spec.reference)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
