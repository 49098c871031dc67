"""The day's accounting files of one ledger, as bytes: Accounting Detail (XML and CSV), SIE4 and the
Bill and Customer Journals. Pure builders over the selectors' rows; writing is accounting.services."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from lxml import etree

from ledger.models import Ledger
from ledger.money import ZERO

from .selectors import AccountTotal, EventRow, PostingRow
from .xmlfiles import AccountingFileError, validate

PROGRAM = ("Ledger Service back office", "1.0")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _text(element, tag: str, value, *, optional: bool = False, limit: int | None = None):
    """Append <tag>value</tag>; an optional empty value is left out."""
    if value is None or value == "":
        if optional:
            return None
        value = ""
    text = str(value)
    if limit:
        text = text[:limit]
    child = etree.SubElement(element, tag)
    child.text = text
    return child


def _serialise(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def control_totals(rows: list[PostingRow]) -> dict:
    """Control totals; refuses a day whose transactions do not each sum to zero (the database already
    guarantees it; a file must never state otherwise)."""
    per_transaction: dict[int, Decimal] = {}
    debit = credit = ZERO
    for row in rows:
        per_transaction[row.transaction_id] = per_transaction.get(row.transaction_id, ZERO) + row.amount
        if row.amount > 0:
            debit += row.amount
        else:
            credit += row.amount
    unbalanced = [tid for tid, total in per_transaction.items() if total != 0]
    if unbalanced:
        raise AccountingFileError(
            f"transactions {unbalanced[:5]} do not balance", code="unbalanced_transaction"
        )
    return {
        "transactions": len(per_transaction),
        "postings": len(rows),
        "debit": debit,
        "credit": credit,
        "balance": debit + credit,
    }


# --- Accounting Detail -----------------------------------------------------------------------------


def _esc(value) -> str:
    """Text content for string-built XML: escaped, without the control characters XML 1.0 forbids."""
    text = str(value)
    if _XML_SPECIAL.search(text) is None:  # the usual case: digits and plain words
        return text
    return escape(_XML_FORBIDDEN.sub("", text))


def _opt(tag: str, value, limit: int | None = None) -> str:
    """An optional element, left out when empty."""
    if value is None or value == "":
        return ""
    text = str(value)[:limit] if limit else value
    return f"<{tag}>{_esc(text)}</{tag}>"


def accounting_detail_xml(
    *, ledger: Ledger, booking_date: date, rows: list[PostingRow], totals: dict
) -> bytes:
    """Built as text (a day may have hundreds of thousands of postings; an element tree per posting
    is several times slower), then validated against the schema like every document we write.
    `totals` are control_totals(rows)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<AccountingDetail Version="1.0">\n',
        f"<CompanyNo>{_esc(ledger.company_no)}</CompanyNo>\n",
        f"<LedgerName>{_esc(ledger.name[:200])}</LedgerName>\n",
        f"<BookingDate>{booking_date.isoformat()}</BookingDate>\n",
        f"<Currency>{ledger.currency}</Currency>\n<Transactions>\n",
    ]
    account_names: dict[str, str] = {}
    current_id = None
    for row in rows:
        if row.transaction_id != current_id:
            if current_id is not None:
                out.append("</Transaction>\n")
            current_id = row.transaction_id
            out.append(
                f"<Transaction><TransactionId>{row.transaction_id}</TransactionId>"
                f"<AccountingAction>{row.action}</AccountingAction>"
                f"{_opt('Cause', row.cause)}{_opt('Reverses', row.reverses_id)}"
                f"{_opt('Description', row.description, 200)}\n"
            )
        name = account_names.get(row.account_number)
        if name is None:
            name = account_names[row.account_number] = _esc(row.account_name[:200])
        out.append(
            f"<Posting><BookAccount>{_esc(row.account_number)}</BookAccount><AccountName>{name}</AccountName>"
            f"{_opt('Component', row.component)}{_opt('InvoiceNo', row.invoice_no)}"
            f"{_opt('PaymentRef', row.payment_ref)}{_opt('CustomerNo', row.customer_no)}"
            f"{_opt('BankArchiveRef', row.bank_archive_ref)}"
            f"<BookDate>{row.booking_date.isoformat()}</BookDate><ValueDate>{row.value_date.isoformat()}</ValueDate>"
            f"<Amount>{row.amount:.2f}</Amount><Currency>{row.currency}</Currency></Posting>\n"
        )
    if current_id is not None:
        out.append("</Transaction>\n")
    out.append(
        "</Transactions>\n<ControlTotals>"
        f"<NoOfTransactions>{totals['transactions']}</NoOfTransactions>"
        f"<NoOfPostings>{totals['postings']}</NoOfPostings>"
        f"<TotalDebit>{_amount(totals['debit'])}</TotalDebit>"
        f"<TotalCredit>{_amount(totals['credit'])}</TotalCredit>"
        f"<Balance>{_amount(totals['balance'])}</Balance>"
        "</ControlTotals>\n</AccountingDetail>\n"
    )
    content = "".join(out).encode("utf-8")
    validate(content, "AccountingDetail")
    return content


CSV_COLUMNS = [
    "RecordType",
    "TransactionId",
    "AccountingAction",
    "Cause",
    "Reverses",
    "BookAccount",
    "AccountName",
    "Component",
    "InvoiceNo",
    "PaymentRef",
    "CustomerNo",
    "BankArchiveRef",
    "BookDate",
    "ValueDate",
    "Amount",
    "Currency",
]


def accounting_detail_csv(
    *, ledger: Ledger, booking_date: date, rows: list[PostingRow], totals: dict
) -> bytes:
    """UTF-8, semicolon-separated, CR LF. A header row, one D record per posting (CSV_COLUMNS) and a
    last T record with the control totals in its own layout: T;transactions;postings;total debit;
    total credit;balance."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                "D",
                row.transaction_id,
                row.action,
                row.cause,
                row.reverses_id or "",
                row.account_number,
                row.account_name,
                row.component,
                row.invoice_no,
                row.payment_ref,
                row.customer_no,
                row.bank_archive_ref,
                row.booking_date.isoformat(),
                row.value_date.isoformat(),
                _amount(row.amount),
                row.currency,
            ]
        )
    writer.writerow(
        [
            "T",
            totals["transactions"],
            totals["postings"],
            _amount(totals["debit"]),
            _amount(totals["credit"]),
            _amount(totals["balance"]),
        ]
    )
    return out.getvalue().encode("utf-8")


# --- SIE4 (type 4I) ----------------------------------------------------------------------------------

# SIE's PC8 is code page 437, which has å, ä, ö, æ and Æ but no ø/Ø: those become ö/Ö, as Swedish
# readers expect; anything else outside CP437 becomes '?'.
_CP437_FALLBACK = str.maketrans({"ø": "ö", "Ø": "Ö"})


def _sie_string(value: str) -> str:
    cleaned = "".join(ch for ch in str(value) if ch >= " ").translate(_CP437_FALLBACK)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sie4(*, ledger: Ledger, booking_date: date, totals: list[AccountTotal]) -> bytes:
    """One voucher (#VER) for the day with one #TRANS per account; the voucher balances to zero.

    Type 4I (an import file: transactions, no balances), CP437 (#FORMAT PC8), lines ending CR LF."""
    balance = sum((t.amount for t in totals), ZERO)
    if balance != 0:
        raise AccountingFileError(f"the day's accounts sum to {balance}, not zero", code="unbalanced_voucher")
    day = booking_date.strftime("%Y%m%d")
    org_no = ledger.client.org_no or ledger.company_no
    lines = [
        "#FLAGGA 0",
        f"#PROGRAM {_sie_string(PROGRAM[0])} {PROGRAM[1]}",
        "#FORMAT PC8",
        f"#GEN {day}",
        "#SIETYP 4",
        f"#FNAMN {_sie_string(ledger.name)}",
        f"#ORGNR {org_no}",
        f"#VALUTA {ledger.currency}",
    ]
    lines += [f"#KONTO {t.number} {_sie_string(t.name)}" for t in totals]
    lines.append(
        f'#VER "" "" {day} {_sie_string(f"Reskontro {ledger.company_no} {booking_date.isoformat()}")}'
    )
    lines.append("{")
    lines += [f"   #TRANS {t.number} {{}} {_amount(t.amount)}" for t in totals if t.amount != 0]
    lines.append("}")
    return ("\r\n".join(lines) + "\r\n").encode("cp437", errors="replace")


# --- Bill Journal and Customer Journal -------------------------------------------------------------


def bill_journal(*, ledger: Ledger, booking_date: date, events: list[EventRow]) -> bytes:
    """Built as text like the Accounting Detail: a day of registrations has one event per invoice."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<BillJournal Version="1.0">\n',
        f"<CompanyNo>{_esc(ledger.company_no)}</CompanyNo>\n",
        f"<BookingDate>{booking_date.isoformat()}</BookingDate>\n",
        f"<NoOfEvents>{len(events)}</NoOfEvents>\n",
    ]
    for event in events:
        subject = event.subject
        out.append(
            f"<Event><EventId>{event.id}</EventId><Kind>{_esc(event.kind)}</Kind>"
            f"<Description>{_esc(event.description[:200])}</Description>"
            f"<InvoiceNo>{_esc(subject['invoice_no'])}</InvoiceNo>"
            f"<PaymentRef>{_esc(subject['payment_ref'])}</PaymentRef>"
            f"<CustomerNo>{_esc(subject['customer_no'])}</CustomerNo>"
            f"{_opt('FromStatus', event.from_status)}<ToStatus>{_esc(event.to_status)}</ToStatus>"
            f"{_opt('Reason', event.reason, 500)}{_opt('TransactionId', event.transaction_id)}"
            f"<Actor>{_esc(event.actor[:200])}</Actor><RecordedAt>{event.created_at.isoformat()}</RecordedAt>"
            "</Event>\n"
        )
    out.append("</BillJournal>\n")
    content = "".join(out).encode("utf-8")
    validate(content, "BillJournal")
    return content


def _change_value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def customer_journal(*, ledger: Ledger, booking_date: date, events: list[EventRow]) -> bytes:
    root = etree.Element("CustomerJournal", Version="1.0")
    _text(root, "CompanyNo", ledger.company_no)
    _text(root, "BookingDate", booking_date.isoformat())
    _text(root, "NoOfEvents", len(events))
    for event in events:
        element = etree.SubElement(root, "Event")
        _text(element, "EventId", event.id)
        _text(element, "Kind", event.kind)
        _text(element, "Description", event.description, limit=200)
        _text(element, "CustomerNo", event.subject["customer_no"])
        for field in sorted(set(event.old_value) | set(event.new_value)):
            change = etree.SubElement(element, "Change", Field=str(field)[:40])
            if field in event.old_value:
                _text(change, "Old", _change_value(event.old_value[field]))
            if field in event.new_value:
                _text(change, "New", _change_value(event.new_value[field]))
        _text(element, "Reason", event.reason, optional=True, limit=500)
        _text(element, "Actor", event.actor, limit=200)
        _text(element, "RecordedAt", event.created_at.isoformat())
    content = _serialise(root)
    validate(content, "CustomerJournal")
    return content
