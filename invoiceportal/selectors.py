"""Reads for the invoice portal. Everything a page shows is looked up through the link: its ledger and
customer bound every query, so a link never reaches another customer's data."""

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from claims.figures import Figures
from claims.models import Claim, FigureKind, StepKind
from claims.selectors import claim_summaries
from distribution.links import token_hash
from distribution.models import Document, DocumentStatus, PortalLink
from ledger.errors import NotFound
from ledger.models import (
    ConsentKind,
    Customer,
    CustomerConsent,
    Invoice,
    InvoiceStatus,
    Ledger,
    LegalEntity,
    TransactionKind,
)
from ledger.money import ZERO, to_money

from .models import PortalSettings, RespiteRequest, RespiteStatus

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet. Anything else is refused
# before the database is asked.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

DIRECT_DEBIT_KIND = {
    "NO": ConsentKind.AVTALEGIRO_NO,
    "SE": ConsentKind.AUTOGIRO_SE,
    "DK": ConsentKind.BETALINGSSERVICE_DK,
}
EINVOICE_KIND = {
    "NO": ConsentKind.EINVOICE_B2C_NO,
    "SE": ConsentKind.EINVOICE_B2C_SE,
    "FI": ConsentKind.EINVOICE_B2C_FI,
}
# Where a customer signs up for e-invoices: in their own internet bank (seeds/002); these pages explain how.
EINVOICE_SIGNUP_URL = {
    "NO": "https://www.efaktura.no/",
    "SE": "https://www.e-faktura.se/",
    "FI": "https://www.finanssiala.fi/en/topics/e-invoicing/",
}
KIVRA_URL = "https://kivra.se/"

_REMINDER_STEPS = {StepKind.SMS_REMINDER, StepKind.REMINDER, StepKind.COLLECTION_NOTICE}
_LATE_FEE_STEPS = {StepKind.LATE_FEE}


class LinkRefused(Exception):
    """Why a link does not open: unknown (wrong or tampered), expired, revoked or closed."""

    def __init__(self, reason: str, link: PortalLink | None = None):
        super().__init__(reason)
        self.reason = reason
        self.link = link


def portal_link_resolve(*, token: str, allow_closed: bool = False) -> PortalLink:
    """The link a token opens, or LinkRefused. A link to an invoice that is closed counts as revoked:
    nothing is owed, and an old e-mail should not keep showing the claim (`allow_closed` for the receipt
    after paying)."""
    if not TOKEN_RE.match(token or ""):
        raise LinkRefused("unknown")
    link = (
        PortalLink.objects.filter(token_hash=token_hash(token))
        .select_related("ledger", "ledger__client", "customer", "invoice")
        .first()
    )
    if link is None:
        raise LinkRefused("unknown")
    if link.revoked_at is not None:
        raise LinkRefused("revoked", link)
    if link.expires_at <= timezone.now():
        raise LinkRefused("expired", link)
    if link.invoice is not None and link.invoice.status == InvoiceStatus.CLOSED and not allow_closed:
        raise LinkRefused("closed", link)
    if link.invoice is not None:
        # Loaded with the link already: the page's reads of them cost no further queries.
        link.invoice.ledger, link.invoice.customer = link.ledger, link.customer
    return link


def portal_settings(*, ledger: Ledger) -> PortalSettings:
    return PortalSettings.objects.filter(ledger=ledger).first() or PortalSettings(ledger=ledger)


def link_invoice(*, link: PortalLink, invoice_id: int | None = None) -> Invoice:
    """The invoice a request on this link is about: the link's own, or (customer links) one of the
    customer's open invoices at this ledger. Anything else is NotFound, like an unknown id."""
    if link.invoice_id is not None and invoice_id in (None, link.invoice_id):
        return link.invoice
    if link.invoice_id is None and invoice_id is not None:
        invoice = (
            Invoice.objects.filter(ledger_id=link.ledger_id, customer_id=link.customer_id, pk=invoice_id)
            .exclude(status=InvoiceStatus.CLOSED)
            .select_related("customer", "ledger")
            .first()
        )
        if invoice is not None:
            return invoice
    raise NotFound("no such invoice on this link", code="invoice_not_found")


@dataclass
class Paid:
    booked_on: date
    amount: Decimal
    kind: str  # payment | credit


@dataclass(frozen=True)
class DocumentRow:
    pk: int
    kind: str
    booking_date: date


@dataclass
class InvoiceView:
    invoice: Invoice
    capital: Decimal
    fees: Decimal
    interest_booked: Decimal
    interest_not_booked: Decimal
    open_amount: Decimal
    interest_rate: Decimal | None
    reminder_fees: Decimal
    collection_fees: Decimal
    late_fees: Decimal
    claim_level: str
    next_event: dict | None
    deadline: date | None
    paid: list[Paid] = field(default_factory=list)
    documents: list[DocumentRow] = field(default_factory=list)
    pending_respite: bool = False
    consents: set = field(default_factory=set)

    @property
    def interest_accrued(self) -> Decimal:
        return self.interest_booked + self.interest_not_booked

    @property
    def pay_by(self) -> date:
        return self.deadline or self.invoice.due_date


# What an invoice page needs besides its balances, in one statement (each a small, indexed read by invoice
# or customer): the claim's fee history, money placed on the invoice by day, the archived documents, a
# waiting respite request and the customer's active consents.
_PAGE_FACTS = """
SELECT
  (SELECT coalesce(json_agg(json_build_object('step_kind', e.step_kind, 'fee', e.fee::text,
                                              'deadline', e.deadline) ORDER BY e.booking_date, e.id), '[]')
     FROM claims_claimevent e WHERE e.invoice_id = %(invoice)s),
  (SELECT coalesce(json_agg(json_build_object('on', x.booking_date, 'kind', x.kind, 'total', x.total::text)
                            ORDER BY x.booking_date, x.kind), '[]')
     FROM (SELECT t.booking_date, t.kind, sum(p.amount) AS total
             FROM ledger_posting p JOIN ledger_journaltransaction t ON t.id = p.transaction_id
            WHERE p.invoice_id = %(invoice)s AND p.component <> '' AND t.kind = ANY(%(kinds)s)
            GROUP BY 1, 2) x),
  (SELECT coalesce(json_agg(json_build_object('id', d.id, 'kind', d.kind, 'booking_date', d.booking_date)
                            ORDER BY d.created_at, d.id), '[]')
     FROM distribution_document d
    WHERE d.ledger_id = %(ledger)s AND d.invoice_id = %(invoice)s AND d.archive_name <> ''
      AND d.status <> %(cancelled)s),
  EXISTS (SELECT 1 FROM invoiceportal_respiterequest r WHERE r.invoice_id = %(invoice)s AND r.status = %(pending)s),
  (SELECT coalesce(array_agg(c.kind), '{}') FROM ledger_customerconsent c
    WHERE c.customer_id = %(customer)s AND c.active)
"""
_PAID_KINDS = [
    TransactionKind.PAYMENT.value,
    TransactionKind.ALLOCATION.value,
    TransactionKind.REVERSAL.value,
    TransactionKind.CREDIT.value,
    TransactionKind.WRITE_OFF.value,
]
_CREDIT_KINDS = {TransactionKind.CREDIT.value, TransactionKind.WRITE_OFF.value}


def _page_facts(invoice: Invoice) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            _PAGE_FACTS,
            {
                "invoice": invoice.pk,
                "ledger": invoice.ledger_id,
                "customer": invoice.customer_id,
                "kinds": _PAID_KINDS,
                "cancelled": DocumentStatus.CANCELLED.value,
                "pending": RespiteStatus.PENDING.value,
            },
        )
        history, paid, documents, pending, consents = cursor.fetchone()

    def loads(value):
        return json.loads(value) if isinstance(value, str) else value

    return {
        "history": [
            {
                "step_kind": e["step_kind"],
                "fee": Decimal(e["fee"]),
                "deadline": date.fromisoformat(e["deadline"]) if e["deadline"] else None,
            }
            for e in loads(history)
        ],
        # Money placed on the invoice (payments and allocations, net of reversals) and credits, by day.
        "paid": [
            Paid(
                booked_on=date.fromisoformat(row["on"]),
                amount=-Decimal(row["total"]),
                kind="credit" if row["kind"] in _CREDIT_KINDS else "payment",
            )
            for row in loads(paid)
            if Decimal(row["total"]) != 0
        ],
        "documents": [
            DocumentRow(d["id"], d["kind"], date.fromisoformat(d["booking_date"])) for d in loads(documents)
        ],
        "pending_respite": bool(pending),
        "consents": set(consents),
    }


def _fee_split(history: list[dict]) -> tuple[Decimal, Decimal, Decimal]:
    reminder = collection = late = ZERO
    for event in history:
        fee = event["fee"]
        if not fee:
            continue
        if event["step_kind"] in _REMINDER_STEPS:
            reminder += fee
        elif event["step_kind"] in _LATE_FEE_STEPS:
            late += fee
        else:
            collection += fee
    return reminder, collection, late


def invoice_view(*, invoice: Invoice, as_of: date | None = None) -> InvoiceView:
    ledger = invoice.ledger
    as_of = as_of or ledger.today()
    status = claim_summaries(ledger=ledger, invoices=[invoice], as_of=as_of)[invoice.id]
    balance = status["balance"]
    facts = _page_facts(invoice)
    history = facts["history"]
    reminder, collection, late = _fee_split(history)
    deadline = None
    for event in history:
        if event["deadline"]:
            deadline = event["deadline"]
    # no rate to announce where the ledger charges no interest (its claim settings)
    rate = (
        Figures.cached(ledger.country).get(FigureKind.LATE_INTEREST_RATE, as_of)
        if status["interest_charged"]
        else None
    )
    return InvoiceView(
        invoice=invoice,
        capital=balance.capital,
        fees=balance.fees,
        interest_booked=balance.interest,
        interest_not_booked=to_money(status["interest_not_yet_booked"]),
        open_amount=balance.open_amount,
        interest_rate=rate,
        reminder_fees=reminder,
        collection_fees=collection,
        late_fees=late,
        claim_level=status["claim_level"],
        next_event=status["next_event"],
        deadline=deadline if deadline and deadline > invoice.due_date else None,
        paid=facts["paid"],
        documents=facts["documents"],
        pending_respite=facts["pending_respite"],
        consents=facts["consents"],
    )


@dataclass
class OverviewRow:
    invoice: Invoice
    open_amount: Decimal
    claim_level: str
    pay_by: date


def customer_overview(
    *, ledger: Ledger, customer: Customer, as_of: date | None = None
) -> tuple[list, Decimal]:
    """The customer's open invoices at this ledger, oldest due first, and what they add up to."""
    as_of = as_of or ledger.today()
    invoices = list(
        Invoice.objects.filter(ledger=ledger, customer=customer)
        .exclude(status=InvoiceStatus.CLOSED)
        .select_related("customer")
        .order_by("due_date", "id")
    )
    summaries = claim_summaries(ledger=ledger, invoices=invoices, as_of=as_of) if invoices else {}
    rows = []
    for invoice in invoices:
        summary = summaries[invoice.id]
        amount = summary["balance"].open_amount
        if amount <= 0:
            continue
        rows.append(OverviewRow(invoice, amount, summary["claim_level"], invoice.due_date))
    return rows, sum((r.open_amount for r in rows), ZERO)


@dataclass
class ConsentView:
    direct_debit_kind: str | None
    direct_debit_active: bool
    einvoice_kind: str | None
    einvoice_active: bool
    einvoice_signup_url: str
    kivra: bool | None  # None: Kivra is not offered in this country
    kivra_url: str = KIVRA_URL


def customer_consent_view(*, ledger: Ledger, customer: Customer, active: set | None = None) -> ConsentView:
    """What the customer has signed up for; `active` (the active consent kinds) when already read."""
    if active is None:
        active = set(
            CustomerConsent.objects.filter(customer=customer, active=True).values_list("kind", flat=True)
        )
    dd = DIRECT_DEBIT_KIND.get(ledger.country)
    einvoice = EINVOICE_KIND.get(ledger.country)
    private = customer.legal_entity == LegalEntity.PRIVATE
    return ConsentView(
        direct_debit_kind=dd,
        direct_debit_active=dd in active,
        einvoice_kind=einvoice if private else None,
        einvoice_active=einvoice in active,
        einvoice_signup_url=EINVOICE_SIGNUP_URL.get(ledger.country, ""),
        kivra=(ConsentKind.KIVRA in active) if ledger.country == "SE" else None,
    )


def link_document(*, link: PortalLink, document_id: int) -> Document:
    """One archived document the link may open: of its invoice, or (customer links) of the customer."""
    qs = Document.objects.filter(ledger_id=link.ledger_id, customer_id=link.customer_id, pk=document_id)
    if link.invoice_id is not None:
        qs = qs.filter(invoice_id=link.invoice_id)
    document = qs.exclude(archive_name="").first()
    if document is None:
        raise NotFound(f"document {document_id} not found", code="document_not_found")
    return document


def respite_worklist(*, ledger: Ledger):
    """Respite requests waiting for an operator (beyond the client's automatic limit), oldest first."""
    return (
        RespiteRequest.objects.filter(ledger=ledger, status=RespiteStatus.PENDING)
        .select_related("invoice", "customer")
        .order_by("created_at", "id")
    )


def respite_start(*, invoice: Invoice, as_of: date) -> date:
    """The day a respite counts from: it extends the current deadline (the due date, or the deadline of the
    claim's last letter, or a respite already granted), never from before it."""
    deadline = Claim.objects.filter(invoice_id=invoice.pk).values_list("deadline", flat=True).first()
    return max(d for d in (as_of, invoice.due_date, deadline, invoice.respite_until) if d)


def respite_choices(
    *, invoice: Invoice, limits: PortalSettings | None = None, as_of: date | None = None
) -> list[tuple[int, date]]:
    """The respite lengths offered: the days and the date each gives, counted from the current deadline,
    within the client's portal maximum and the ledger's longest respite."""
    ledger = invoice.ledger
    as_of = as_of or ledger.today()
    limits = limits or portal_settings(ledger=ledger)
    start = respite_start(invoice=invoice, as_of=as_of)
    latest = as_of + timedelta(days=ledger.max_respite_days)
    days = sorted({7, 14, 30, limits.respite_auto_days, limits.respite_max_days})
    return [
        (d, start + timedelta(days=d))
        for d in days
        if 0 < d <= limits.respite_max_days and start + timedelta(days=d) <= latest
    ]
