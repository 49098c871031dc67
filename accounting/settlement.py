"""Settlement to the client: the period, what was collected, our fees, and the files that go with it.

What is the client's: money placed on the client's claims (receivable postings of PAYMENT and
ALLOCATION transactions, and of the reversals of those) in journal transactions not settled before,
booked up to the period's end. Capital is always the client's; interest is the client's unless the
agreement says otherwise; reminder and collection fees are ours under "no cure no pay". Money on
suspense or on customers' credit balances is not the client's (yet); refunds paid out of it to customers
are therefore not deducted again. Our service fees (the client's price list) are deducted from the
payout or, by agreement, invoiced separately.

The settlement transaction (kind SETTLEMENT) moves the client's share from the accounts that held it
(invoice clearing, interest income, fee income) to payable-to-client, deducts the fees into fee income
and pays the rest from the client-funds bank account; payable-to-client ends at zero, or keeps a debit
balance (carried forward) when fees and reversals exceeded what came in.

Why one module past 500 lines: one service family (`settlement_book` and the Balance Report and payout
file it writes) whose steps share the period's figures; split, each part would need them all passed.
"""

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count
from django.utils import timezone
from lxml import etree

from distribution.models import Channel, Document, DocumentKind, DocumentStatus
from ledger.errors import ValidationFailed
from ledger.models import AccountRole, InvoiceEvent, InvoiceEventKind, Ledger, Payment
from ledger.money import ZERO
from ledger.payments.payouts import E, _account, _amount, _party, _text, _validate, client_funds_account

from .models import (
    PriceItem,
    PriceItemKind,
    PriceList,
    Settlement,
    SettlementAgreement,
    SettlementFrequency,
)
from .selectors import event_description
from .xmlfiles import validate

MONEY_KINDS = ("payment", "allocation")
RECEIVABLE_ROLES = (
    AccountRole.RECEIVABLE_CAPITAL.value,
    AccountRole.RECEIVABLE_FEE.value,
    AccountRole.RECEIVABLE_INTEREST.value,
)


# --- The period ------------------------------------------------------------------------------------


def period_end_before(frequency: str, as_of: date) -> date:
    """The last day of the latest period of this frequency that ended before `as_of`."""
    if frequency == SettlementFrequency.DAILY:
        return as_of - timedelta(days=1)
    if frequency == SettlementFrequency.WEEKLY:  # Monday to Sunday
        return as_of - timedelta(days=as_of.weekday() + 1)
    return as_of.replace(day=1) - timedelta(days=1)


def natural_period_start(frequency: str, end: date) -> date:
    if frequency == SettlementFrequency.DAILY:
        return end
    if frequency == SettlementFrequency.WEEKLY:
        return end - timedelta(days=6)
    return end.replace(day=1)


# --- What was collected ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectedRow:
    """One unsettled journal transaction that placed money on the client's claims."""

    transaction_id: int
    booking_date: date
    capital: Decimal
    fees: Decimal
    interest: Decimal


def unsettled_collections(*, ledger: Ledger, until: date) -> list[CollectedRow]:
    """Money placed on (or, by a reversal, taken off) the ledger's claims, booked up to `until` and not
    settled before; amounts positive when collected."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id, t.booking_date,
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_capital'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_fee'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_interest'), 0)
                 FROM ledger_journaltransaction t
                 LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
                 JOIN ledger_posting p ON p.transaction_id = t.id
                 JOIN ledger_account a ON a.id = p.account_id AND a.role = ANY(%s)
                WHERE t.ledger_id = %s AND t.booking_date <= %s
                  AND (t.kind = ANY(%s) OR (t.kind = 'reversal' AND rt.kind = ANY(%s)))
                  AND NOT EXISTS (SELECT 1 FROM accounting_settlementitem s WHERE s.transaction_id = t.id)
                GROUP BY t.id, t.booking_date
                ORDER BY t.booking_date, t.id""",
            [list(RECEIVABLE_ROLES), ledger.id, until, list(MONEY_KINDS), list(MONEY_KINDS)],
        )
        return [CollectedRow(*row) for row in cursor.fetchall()]


def _role_balance(ledger: Ledger, role: str) -> Decimal:
    """The sum of the ledger's postings on its account of `role` (debit positive)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT coalesce(sum(p.amount), 0) FROM ledger_posting p
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE p.ledger_id = %s AND a.role = %s""",
            [ledger.id, role],
        )
        return cursor.fetchone()[0]


def collection_funds_balance(ledger: Ledger) -> Decimal:
    """What the collection client-funds account holds: payments for claims in collection (seeds 000
    section 7) since the last settlement moved them to the client-funds account."""
    return _role_balance(ledger, AccountRole.COLLECTION_FUNDS_BANK)


def payable_balance(ledger: Ledger) -> Decimal:
    """What we owe the client on payable-to-client before this settlement (credit positive)."""
    return ZERO - _role_balance(ledger, AccountRole.PAYABLE_TO_CLIENT)  # never a negative zero


# --- Our fees ----------------------------------------------------------------------------------------


# A document is charged once it has left the queue: sent, archived for the print batch (the batch goes
# out the next working day and nothing takes a document out of it), archived only (the archive-only
# channel is a service too), or returned (it went out; the return is the address's fault, and the
# re-sent copy is a document of its own). Not charged: queued, processing and retry (not distributed
# yet), failed and cancelled (never distributed).
DISTRIBUTED_STATUSES = (
    DocumentStatus.SENT,
    DocumentStatus.AWAITING_PRINT,
    DocumentStatus.ARCHIVED,
    DocumentStatus.RETURNED,
)


@dataclass(frozen=True)
class FeeLine:
    item: str
    event_kind: str
    description: str
    count: int
    unit_price: Decimal
    document_kind: str = ""
    channel: str = ""

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.count


def price_list_in_force(ledger: Ledger, day: date) -> PriceList | None:
    price_list = (
        PriceList.objects.filter(client_id=ledger.client_id, valid_from__lte=day)
        .order_by("-valid_from")
        .first()
    )
    if price_list is not None and price_list.currency != ledger.currency:
        raise ValidationFailed(
            f"the price list of {price_list.valid_from} is in {price_list.currency}, "
            f"ledger {ledger.company_no} in {ledger.currency}",
            code="price_list_currency_mismatch",
        )
    return price_list


def distributed_documents(ledger: Ledger, start: date, end: date) -> dict[tuple[str, str], int]:
    """(document kind, channel) -> how many of the ledger's documents left the queue in the period
    (DISTRIBUTED_STATUSES, by their distributed_on): one GROUP BY. A document still queued or retrying
    when its period is settled is charged in the period it goes out in, once."""
    rows = (
        Document.objects.filter(
            ledger=ledger, distributed_on__range=(start, end), status__in=DISTRIBUTED_STATUSES
        )
        .values_list("kind", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(kind, channel): n for kind, channel, n in rows}


def document_item_for(items: dict[tuple[str, str], PriceItem], kind: str, channel: str) -> PriceItem | None:
    """The most specific DOCUMENT price item for a document: kind and channel, then kind (any
    channel), then channel (any kind), then any; None when the list prices no such document."""
    for key in ((kind, channel), (kind, ""), ("", channel), ("", "")):
        if key in items:
            return items[key]
    return None


def document_description(item: PriceItem) -> str:
    kind = DocumentKind(item.document_kind).label if item.document_kind else "Documents"
    channel = f"by {Channel(item.channel).label}" if item.channel else "(any channel)"
    return f"{kind} {channel}"


def service_fees(ledger: Ledger, start: date, end: date) -> list[FeeLine]:
    """The period's chargeable services counted from the journal, the events and the documents
    distributed, priced by the list in force at the period's end."""
    price_list = price_list_in_force(ledger, end)
    if price_list is None:
        return []
    items = list(price_list.items.order_by("kind", "event_kind", "document_kind", "channel"))
    document_items = {
        (item.document_kind, item.channel): item for item in items if item.kind == PriceItemKind.DOCUMENT
    }
    document_counts: dict[int, int] = {}
    if document_items:
        for (kind, channel), n in distributed_documents(ledger, start, end).items():
            if (item := document_item_for(document_items, kind, channel)) is not None:
                document_counts[item.id] = document_counts.get(item.id, 0) + n
    event_counts = dict(
        InvoiceEvent.objects.filter(ledger=ledger, booking_date__range=(start, end))
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    payments = Payment.objects.filter(ledger=ledger, booking_date__range=(start, end)).count()
    labels = dict(InvoiceEventKind.choices)
    lines = []
    for item in items:
        if item.kind == PriceItemKind.INVOICE_REGISTERED:
            count, description = event_counts.get(InvoiceEventKind.REGISTERED, 0), "Invoices registered"
        elif item.kind == PriceItemKind.PAYMENT:
            count, description = payments, "Payments received"
        elif item.kind == PriceItemKind.DOCUMENT:
            count, description = document_counts.get(item.id, 0), document_description(item)
        else:
            count, description = (
                event_counts.get(item.event_kind, 0),
                event_description(item.event_kind, labels),
            )
        lines.append(
            FeeLine(
                item.kind,
                item.event_kind,
                description,
                count,
                item.unit_price,
                document_kind=item.document_kind,
                channel=item.channel,
            )
        )
    return lines


# --- The figures of one settlement ---------------------------------------------------------------------


@dataclass
class Figures:
    collected_capital: Decimal = ZERO
    collected_fees: Decimal = ZERO
    collected_interest: Decimal = ZERO
    retained_fees: Decimal = ZERO
    retained_interest: Decimal = ZERO
    client_share: Decimal = ZERO
    brought_forward: Decimal = ZERO
    service_fees: Decimal = ZERO
    deducted: Decimal = ZERO
    payout: Decimal = ZERO
    carried_forward: Decimal = ZERO
    collection_transferred: Decimal = ZERO
    fee_lines: list[FeeLine] = field(default_factory=list)


def figures(
    *,
    agreement: SettlementAgreement,
    rows: list[CollectedRow],
    fee_lines: list[FeeLine],
    brought_forward: Decimal,
    collection_balance: Decimal = ZERO,
) -> Figures:
    f = Figures(
        fee_lines=fee_lines, brought_forward=brought_forward, collection_transferred=collection_balance
    )
    f.collected_capital = sum((r.capital for r in rows), ZERO)
    f.collected_fees = sum((r.fees for r in rows), ZERO)
    f.collected_interest = sum((r.interest for r in rows), ZERO)
    f.retained_fees = f.collected_fees if agreement.claim_fees_ours else ZERO
    f.retained_interest = ZERO if agreement.interest_to_client else f.collected_interest
    f.client_share = (
        f.collected_capital + f.collected_interest - f.retained_interest + f.collected_fees - f.retained_fees
    )
    f.service_fees = sum((line.amount for line in fee_lines), ZERO)
    f.deducted = f.service_fees if agreement.fees_deducted else ZERO
    result = f.client_share + f.brought_forward - f.deducted
    f.payout = max(result, ZERO)
    f.carried_forward = min(result, ZERO)
    return f


def client_amount(
    agreement: SettlementAgreement, capital: Decimal, fees: Decimal, interest: Decimal
) -> Decimal:
    return (
        capital
        + (ZERO if agreement.claim_fees_ours else fees)
        + (interest if agreement.interest_to_client else ZERO)
    )


def daily_records(agreement: SettlementAgreement, rows: list[CollectedRow]) -> list[dict]:
    """The ClientAssetDisbursement records: per book date what was placed on the client's claims."""
    by_day: dict[date, list[Decimal]] = {}
    for r in rows:
        totals = by_day.setdefault(r.booking_date, [ZERO, ZERO, ZERO])
        totals[0] += r.capital
        totals[1] += r.interest
        totals[2] += r.fees
    return [
        {
            "book_date": day,
            "capital": capital,
            "interest": interest,
            "fees": fees,
            "client_amount": client_amount(agreement, capital, fees, interest),
        }
        for day, (capital, interest, fees) in sorted(by_day.items())
    ]


def sales_specification(settlement: Settlement) -> list[dict]:
    """Per invoice: what the settlement's transactions placed on it, by component."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.invoice_no, c.customer_no, i.payment_ref,
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_capital'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_interest'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_fee'), 0)
                 FROM accounting_settlementitem s
                 JOIN ledger_posting p ON p.transaction_id = s.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id AND a.role = ANY(%s)
                 JOIN ledger_invoice i ON i.id = p.invoice_id
                 JOIN ledger_customer c ON c.id = i.customer_id
                WHERE s.settlement_id = %s
                GROUP BY i.invoice_no, c.customer_no, i.payment_ref
                ORDER BY i.invoice_no""",
            [list(RECEIVABLE_ROLES), settlement.id],
        )
        keys = ("invoice_no", "customer_no", "payment_ref", "capital", "interest", "fees")
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def ocr_payments(settlement: Settlement, agreement: SettlementAgreement) -> list[tuple[str, Decimal, str]]:
    """(KID, amount for the client, bank archive reference) per payment and invoice of the settlement;
    only positive amounts (OCR Giro carries no negative transactions)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.payment_ref, coalesce(pay.bank_archive_ref, ''),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_capital'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_fee'), 0),
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'receivable_interest'), 0)
                 FROM accounting_settlementitem s
                 JOIN ledger_journaltransaction t ON t.id = s.transaction_id
                 JOIN ledger_posting p ON p.transaction_id = s.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id AND a.role = ANY(%s)
                 JOIN ledger_invoice i ON i.id = p.invoice_id
                 LEFT JOIN ledger_payment pay ON pay.id = coalesce(p.payment_id, t.payment_id)
                WHERE s.settlement_id = %s
                GROUP BY s.transaction_id, i.id, i.payment_ref, pay.bank_archive_ref
                ORDER BY s.transaction_id, i.id""",
            [list(RECEIVABLE_ROLES), settlement.id],
        )
        out = []
        for kid, archive_ref, capital, fees, interest in cursor.fetchall():
            amount = client_amount(agreement, capital, fees, interest)
            if amount > 0:
                out.append((kid, amount, archive_ref))
        return out


# --- Balance Report XML ------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _sub(parent, tag: str, value) -> etree._Element:
    child = etree.SubElement(parent, tag)
    child.text = str(value)
    return child


def balance_report_xml(
    *,
    settlement: Settlement,
    agreement: SettlementAgreement,
    records: list[dict],
    sales: list[dict],
    fee_lines: list[FeeLine],
) -> bytes:
    ledger = settlement.ledger
    root = etree.Element("BalanceReport", Version="1.0")
    _sub(root, "CompanyNo", ledger.company_no)
    _sub(root, "LedgerName", ledger.name[:200])
    _sub(root, "ClientName", ledger.client.name[:200])
    _sub(root, "SettlementId", settlement.id)
    _sub(root, "PeriodStart", settlement.period_start.isoformat())
    _sub(root, "PeriodEnd", settlement.period_end.isoformat())
    _sub(root, "SettlementDate", settlement.booking_date.isoformat())
    _sub(root, "Currency", settlement.currency)
    summary = etree.SubElement(root, "PaymentSummary")
    deducted = settlement.service_fees if settlement.fees_deducted else ZERO
    for tag, value in (
        ("CollectedCapital", settlement.collected_capital),
        ("CollectedInterest", settlement.collected_interest),
        ("CollectedFees", settlement.collected_fees),
        ("RetainedInterest", settlement.retained_interest),
        ("RetainedFees", settlement.retained_fees),
        ("ClientShare", settlement.client_share),
        ("BroughtForward", settlement.brought_forward),
        ("ServiceFeesDeducted", deducted),
        ("ServiceFeesInvoiced", settlement.service_fees - deducted),
        ("Payout", settlement.payout),
        ("CarriedForward", settlement.carried_forward),
    ):
        _sub(summary, tag, _money(value))
    if ledger.collection_funds_account or settlement.collection_transferred:
        _sub(summary, "TransferredFromCollectionAccount", _money(settlement.collection_transferred))
    _sub(summary, "BankAccount", agreement.bank_account[:40])
    if settlement.transaction_id:
        _sub(summary, "TransactionId", settlement.transaction_id)
    disbursement = etree.SubElement(root, "ClientAssetDisbursement")
    for record in records:
        element = etree.SubElement(disbursement, "Record")
        _sub(element, "BookDate", record["book_date"].isoformat())
        for tag, key in (
            ("Capital", "capital"),
            ("Interest", "interest"),
            ("Fees", "fees"),
            ("ClientAmount", "client_amount"),
        ):
            _sub(element, tag, _money(record[key]))
    specification = etree.SubElement(root, "SalesSpecification")
    for sale in sales:
        element = etree.SubElement(specification, "Invoice")
        _sub(element, "InvoiceNo", sale["invoice_no"])
        _sub(element, "CustomerNo", sale["customer_no"])
        _sub(element, "PaymentRef", sale["payment_ref"])
        for tag, key in (("Capital", "capital"), ("Interest", "interest"), ("Fees", "fees")):
            _sub(element, tag, _money(sale[key]))
    fees = etree.SubElement(
        root, "FeeSpecification", Deducted="true" if settlement.fees_deducted else "false"
    )
    for line in fee_lines:
        element = etree.SubElement(fees, "Fee")
        _sub(element, "Item", line.item)
        if line.event_kind:
            _sub(element, "EventKind", line.event_kind)
        if line.document_kind:
            _sub(element, "DocumentKind", line.document_kind)
        if line.channel:
            _sub(element, "Channel", line.channel)
        _sub(element, "Description", line.description[:200])
        _sub(element, "Count", line.count)
        _sub(element, "UnitPrice", _money(line.unit_price))
        _sub(element, "Amount", _money(line.amount))
    _sub(fees, "Total", _money(settlement.service_fees))
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(content, "BalanceReport")
    return content


# --- pain.001 to the client and the OCR settlement file ------------------------------------------------


def settlement_message_id(ledger: Ledger, settlement: Settlement) -> str:
    """SETTLE-<company_no>-<YYYYMMDD>-<id> (Max35Text), shortened without the company number if long."""
    message_id = f"SETTLE-{ledger.company_no}-{settlement.period_end:%Y%m%d}-{settlement.id}"
    return message_id if len(message_id) <= 35 else f"SETTLE-{settlement.period_end:%Y%m%d}-{settlement.id}"


def settlement_pain001(*, settlement: Settlement, agreement: SettlementAgreement, message_id: str) -> bytes:
    """The settlement's credit transfers in the ISO 20022 pain.001.001.03 form of
    ledger/payments/payouts.py, validated against the official schema: the payout from the client-funds
    account to the client's account, and before it, when the collection client-funds account holds money,
    its transfer to the client-funds account (a payment information block per debtor account)."""
    ledger = settlement.ledger
    period = f"{ledger.company_no} {settlement.period_start}..{settlement.period_end}"
    blocks = []
    if settlement.collection_transferred > 0:
        blocks.append(_pain001_block(
            settlement, f"{message_id}-C"[:35], settlement.collection_transferred,
            debtor=_account(ledger.collection_funds_account, country=ledger.country,
                            what=f"the collection client-funds account of ledger {ledger.company_no}"),
            creditor=client_funds_account(ledger), creditor_name=ledger.name,
            text=f"Collection client funds to client funds {period}",
        ))  # fmt: skip
    if settlement.payout > 0:
        blocks.append(_pain001_block(
            settlement, message_id, settlement.payout, debtor=client_funds_account(ledger),
            creditor=_account(agreement.bank_account, country=ledger.country,
                              what=f"the settlement account of ledger {ledger.company_no}"),
            creditor_name=ledger.client.name, text=f"Settlement {period}",
        ))  # fmt: skip
    created = timezone.localtime(settlement.created_at, zoneinfo.ZoneInfo(ledger.time_zone))
    total = _amount(settlement.payout + settlement.collection_transferred)
    document = E.Document(
        E.CstmrCdtTrfInitn(
            E.GrpHdr(
                E.MsgId(message_id),
                E.CreDtTm(created.replace(microsecond=0).isoformat()),
                E.NbOfTxs(str(len(blocks))),
                E.CtrlSum(total),
                _party(ledger.client.name, tag="InitgPty"),
            ),
            *blocks,
        )
    )
    content = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    _validate(content)
    return content


def _pain001_block(
    settlement, end_to_end: str, value: Decimal, *, debtor, creditor, creditor_name: str, text: str
) -> etree._Element:
    """One payment information block: one credit transfer from `debtor` to `creditor`."""
    ledger = settlement.ledger
    amount = _amount(value)
    transfer = [E.PmtId(E.EndToEndId(end_to_end)), E.Amt(E.InstdAmt(amount, Ccy=settlement.currency))]
    if len(cdtr := _party(creditor_name, tag="Cdtr")):
        transfer.append(cdtr)
    transfer.append(E.CdtrAcct(creditor))
    transfer.append(E.RmtInf(E.Ustrd(_text(text))))
    return E.PmtInf(
        E.PmtInfId(end_to_end),
        E.PmtMtd("TRF"),
        E.NbOfTxs("1"),
        E.CtrlSum(amount),
        E.ReqdExctnDt(settlement.booking_date.isoformat()),
        _party(ledger.name, tag="Dbtr"),
        E.DbtrAcct(debtor),
        E.DbtrAgt(E.FinInstnId(E.Othr(E.Id("NOTPROVIDED")))),
        E.CdtTrfTxInf(*transfer),
    )


_NO_IBAN = re.compile(r"^NO[0-9]{2}([0-9]{11})$")


def ocr_account(bank_account: str) -> str:
    """The 11-digit Norwegian account number an OCR Giro file names (from a BBAN or a Norwegian IBAN)."""
    compact = re.sub(r"[\s.\-]", "", bank_account or "").upper()
    if match := _NO_IBAN.match(compact):
        compact = match.group(1)
    if not (compact.isdigit() and len(compact) == 11):
        raise ValidationFailed(
            f"the OCR settlement file needs an 11-digit Norwegian account, got {bank_account!r}",
            code="ocr_account_invalid",
        )
    return compact


def ocr_settlement_file(*, settlement: Settlement, agreement: SettlementAgreement, payments) -> bytes:
    """The Nets OCR Giro file (service code 09) listing the settlement's payments with KID and amount."""
    from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro

    account = ocr_account(agreement.bank_account)
    number = f"{settlement.id % 10_000_000:07d}"
    specs = [
        PaymentSpec(reference=kid, amount=amount, archive_ref=archive) for kid, amount, archive in payments
    ]
    return write_ocr_giro(
        specs,
        receiving_account=account,
        nets_date=settlement.booking_date,
        transmission_number=number,
        assignment_number=number,
    )
