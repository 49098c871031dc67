"""ISO 20022 camt.054 (BankToCustomerDebitCreditNotification), versions .001.02 to .001.08.

Read with a hardened lxml parser (no DTD, no entities, no network, no huge trees; a DOCTYPE is
refused). Elements are matched on their local name, so every camt.054 version's namespace works.
One BankPayment per booked credit `TxDtls` (an entry without TxDtls gives one payment of its own).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from .model import (
    CENT,
    FORMAT_CAMT054,
    BankFile,
    BankFileError,
    BankPayment,
    check_totals,
    unique_archive_refs,
)

NAMESPACE_RE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.(\d\d)$")
SUPPORTED_VERSIONS = range(2, 9)
_AMOUNT_RE = re.compile(r"^\s*\d{1,18}(\.\d{1,5})?\s*$")
_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el, name: str) -> list:
    """Child elements with this local name, in any namespace."""
    return el.findall("{*}" + name) if el is not None else []


def _child(el, *path: str):
    """The first element down the path of local names, or None."""
    return el.find("/".join("{*}" + name for name in path)) if el is not None else None


def _text(el, *path: str) -> str:
    node = _child(el, *path)
    return (node.text or "").strip() if node is not None else ""


def _amount(el, what: str) -> tuple[Decimal, str]:
    raw = (el.text or "").strip()
    if not _AMOUNT_RE.match(raw):
        raise BankFileError("bad_amount", f"{what}: not an amount: {raw!r}", el.sourceline)
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise BankFileError("bad_amount", f"{what}: not an amount: {raw!r}", el.sourceline) from exc
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise BankFileError("bad_amount", f"{what}: more than 2 decimals: {raw!r}", el.sourceline)
    currency = (el.get("Ccy") or "").strip()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise BankFileError("malformed", f"{what}: missing or bad Ccy attribute", el.sourceline)
    return quantized, currency


def _date(el, where: str, line: int | None) -> date | None:
    """ISO date from <X><Dt> or <X><DtTm>."""
    dt = _text(el, "Dt")
    dttm = _text(el, "DtTm")
    try:
        if dt:
            return date.fromisoformat(dt[:10])
        if dttm:
            return datetime.fromisoformat(dttm.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise BankFileError("bad_date", f"{where}: not a date: {dt or dttm!r}", line) from exc
    return None


def _status(entry) -> str:
    sts = _child(entry, "Sts")
    if sts is None:
        return ""
    code = _text(sts, "Cd")  # .08: <Sts><Cd>BOOK</Cd></Sts>
    return code or (sts.text or "").strip()


def _account_id(acct) -> str:
    return _text(acct, "Id", "IBAN") or _text(acct, "Id", "Othr", "Id")


def _party_name(party) -> str:
    if party is None:
        return ""
    return _text(party, "Nm") or _text(party, "Pty", "Nm")  # .08 wraps the party in <Pty>


def _usable_ref(value: str) -> str:
    return "" if not value or value.upper() == "NOTPROVIDED" else value


def _parse_xml(data: bytes):
    if _DOCTYPE_RE.search(data):
        raise BankFileError("unsafe_xml", "XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        raise BankFileError("malformed", f"not well-formed XML: {exc.msg}", line) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BankFileError("unsafe_xml", "XML with a DOCTYPE is refused")
    return root


def camt054_version(root) -> int:
    ns = etree.QName(root).namespace or ""
    m = NAMESPACE_RE.match(ns)
    if not m or _local(root) != "Document":
        raise BankFileError("unknown_format", f"not a camt.054 document (root {root.tag!r})", root.sourceline)
    version = int(m.group(1))
    if version not in SUPPORTED_VERSIONS:
        raise BankFileError("unknown_format", f"camt.054.001.{version:02d} is not supported (02-08 are)")
    return version


def parse_camt054(data: bytes, *, name: str = "") -> BankFile:
    root = _parse_xml(data)
    camt054_version(root)
    msg = _child(root, "BkToCstmrDbtCdtNtfctn")
    if msg is None:
        raise BankFileError("malformed", "no BkToCstmrDbtCdtNtfctn element", root.sourceline)
    header = _child(msg, "GrpHdr")
    file_id = _text(header, "MsgId")
    if not file_id:
        raise BankFileError("malformed", "no GrpHdr/MsgId", header.sourceline if header is not None else None)
    created = None
    created_text = _text(header, "CreDtTm")
    if created_text:
        try:
            created = datetime.fromisoformat(created_text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BankFileError("bad_date", f"GrpHdr/CreDtTm is not a date-time: {created_text!r}") from exc

    raw: list[dict] = []
    totals: dict[str, Decimal] = {}
    accounts: dict[str, None] = {}
    notifications = _children(msg, "Ntfctn")
    if not notifications:
        raise BankFileError("malformed", "no Ntfctn element", msg.sourceline)
    for ntfctn in notifications:
        receiving = _account_id(_child(ntfctn, "Acct"))
        if not receiving:
            raise BankFileError("malformed", "Ntfctn/Acct has no IBAN or Othr/Id", ntfctn.sourceline)
        accounts.setdefault(receiving)
        credit_entries_sum: dict[str, Decimal] = {}
        credit_entries_n = 0
        for entry in _children(ntfctn, "Ntry"):
            line = entry.sourceline
            amt_el = _child(entry, "Amt")
            if amt_el is None:
                raise BankFileError("malformed", "Ntry without Amt", line)
            entry_amount, entry_ccy = _amount(amt_el, "Ntry/Amt")
            indicator = _text(entry, "CdtDbtInd")
            if indicator not in ("CRDT", "DBIT"):
                raise BankFileError(
                    "malformed", f"Ntry/CdtDbtInd must be CRDT or DBIT, got {indicator!r}", line
                )
            if indicator != "CRDT":
                continue
            credit_entries_n += 1
            credit_entries_sum[entry_ccy] = credit_entries_sum.get(entry_ccy, Decimal("0.00")) + entry_amount
            if _status(entry) != "BOOK":
                continue
            reversal = _text(entry, "RvslInd").lower() == "true"
            booking = _date(_child(entry, "BookgDt"), "Ntry/BookgDt", line)
            if booking is None:
                raise BankFileError("malformed", "booked Ntry without BookgDt", line)
            value = _date(_child(entry, "ValDt"), "Ntry/ValDt", line) or booking
            entry_ref = _usable_ref(_text(entry, "AcctSvcrRef")) or _usable_ref(_text(entry, "NtryRef"))
            details = [tx for nd in _children(entry, "NtryDtls") for tx in _children(nd, "TxDtls")]
            declared_n = [
                _text(nd, "Btch", "NbOfTxs")
                for nd in _children(entry, "NtryDtls")
                if _text(nd, "Btch", "NbOfTxs")
            ]
            if declared_n and details:
                try:
                    n = sum(int(v) for v in declared_n)
                except ValueError as exc:
                    raise BankFileError("malformed", f"bad Btch/NbOfTxs {declared_n!r}", line) from exc
                if n != len(details):
                    raise BankFileError(
                        "record_count_mismatch", f"Ntry says NbOfTxs {n} but has {len(details)} TxDtls", line
                    )

            if not details:
                details = [None]
            entry_payments: list[dict] = []
            for index, tx in enumerate(details, 1):
                src = tx if tx is not None else entry
                amt = _child(tx, "AmtDtls", "TxAmt", "Amt") if tx is not None else None
                if amt is None and tx is not None:
                    amt = _child(tx, "Amt")
                if amt is not None:
                    amount, ccy = _amount(amt, "TxDtls amount")
                elif len(details) == 1:
                    amount, ccy = entry_amount, entry_ccy
                else:
                    raise BankFileError(
                        "malformed", "TxDtls without an amount in a batched entry", src.sourceline
                    )
                tx_indicator = _text(tx, "CdtDbtInd") if tx is not None else ""
                if tx_indicator == "DBIT":
                    amount = -amount
                refs = _child(tx, "Refs")
                archive = (
                    _usable_ref(_text(refs, "AcctSvcrRef"))
                    or _usable_ref(_text(refs, "TxId"))
                    or _usable_ref(_text(refs, "EndToEndId"))
                )
                if not archive:
                    archive = f"{entry_ref or file_id}/{index}"
                rmt = _child(tx, "RmtInf")
                creditor_refs = [
                    _text(cri, "Ref").replace(" ", "")
                    for strd in _children(rmt, "Strd")
                    for cri in _children(strd, "CdtrRefInf")
                    if _text(cri, "Ref")
                ]
                texts = [(u.text or "").strip() for u in _children(rmt, "Ustrd") if (u.text or "").strip()]
                texts += [
                    (a.text or "").strip()
                    for strd in _children(rmt, "Strd")
                    for a in _children(strd, "AddtlRmtInf")
                    if (a.text or "").strip()
                ]
                texts += [f"Reference {r}" for r in creditor_refs[1:]]
                parties = _child(tx, "RltdPties")
                entry_payments.append(
                    dict(
                        archive_ref=archive,
                        amount=amount,
                        currency=ccy,
                        reference=creditor_refs[0] if creditor_refs else "",
                        text="\n".join(texts),
                        payer_name=_party_name(_child(parties, "Dbtr")),
                        payer_account=_account_id(_child(parties, "DbtrAcct")),
                        booking_date=booking,
                        value_date=value,
                        receiving_account=receiving,
                        line=src.sourceline,
                        kind="reversal" if reversal else "payment",
                    )
                )
            # Control: a batched entry's TxDtls add up to the entry amount.
            if any(p["currency"] != entry_ccy for p in entry_payments):
                raise BankFileError(
                    "currency_mismatch", f"TxDtls currencies differ from the entry's {entry_ccy}", line
                )
            tx_sum = sum((p["amount"] for p in entry_payments), Decimal("0.00"))
            if tx_sum != entry_amount:
                raise BankFileError(
                    "control_total_mismatch",
                    f"Ntry amount {entry_ccy} {entry_amount} differs from its TxDtls' sum {tx_sum}",
                    line,
                )
            raw.extend(entry_payments)
            totals[entry_ccy] = totals.get(entry_ccy, Decimal("0.00")) + entry_amount

        summary = _child(ntfctn, "TxsSummry", "TtlCdtNtries")
        if summary is not None:
            declared_sum = _text(summary, "Sum")
            declared_n = _text(summary, "NbOfNtries")
            if declared_n and declared_n.isascii() and declared_n.isdigit() and int(declared_n) != credit_entries_n:
                raise BankFileError(
                    "record_count_mismatch",
                    f"TxsSummry/TtlCdtNtries says {declared_n} credit entries, found {credit_entries_n}",
                    summary.sourceline,
                )
            if declared_sum:
                if not _AMOUNT_RE.match(declared_sum):
                    raise BankFileError(
                        "bad_amount", f"TtlCdtNtries/Sum: {declared_sum!r}", summary.sourceline
                    )
                if len(credit_entries_sum) <= 1:
                    actual = sum(credit_entries_sum.values(), Decimal("0.00"))
                    if Decimal(declared_sum) != actual:
                        raise BankFileError(
                            "control_total_mismatch",
                            f"TxsSummry/TtlCdtNtries/Sum {declared_sum} differs from the credit entries' sum {actual}",
                            summary.sourceline,
                        )

    refs = unique_archive_refs([r["archive_ref"] for r in raw])
    payments = tuple(BankPayment(**{**r, "archive_ref": ref}) for r, ref in zip(raw, refs, strict=True))
    totals = {cur: amount.quantize(CENT) for cur, amount in totals.items()}
    check_totals(payments, totals)
    return BankFile(
        format=FORMAT_CAMT054,
        file_id=file_id,
        created=created,
        receiving_accounts=tuple(accounts),
        payments=payments,
        totals=totals,
    )
