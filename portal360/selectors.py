"""Reads for the operator UI's pages, composed from the domain selectors. Each takes the ledger(s) the
caller resolved through portal360.access (tenant-scoped), and each page costs a fixed number of
queries, whatever the customer's number of invoices."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import Collate, Lower, Upper

from claims.collection_stop import COLLECTION_LEVELS, pay_to_account
from claims.models import Claim, ClaimStatus
from claims.selectors import claim_status, claim_summaries
from distribution.models import (
    Document,
    DocumentEvent,
    EfakturaMatch,
    ReturnedDocument,
    ReturnStatus,
)
from distribution.selectors import invoice_distribution_status
from ledger.addressees import minor_born_after
from ledger.errors import NotFound
from ledger.models import (
    AccountRole,
    Client,
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    Invoice,
    InvoiceAttachment,
    Ledger,
    Payment,
    PaymentEvent,
    Posting,
    TransactionKind,
)
from ledger.money import ZERO
from ledger.payments.selectors import customer_credit_balance
from ledger.selectors import (
    customer_get,
    invoice_events,
    invoice_get,
    invoices_filtered,
    invoices_with_balances,
)

from .models import News

PAGE_SIZE = 25


def _one(sql: str, params: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# --- Start ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartFigures:
    open_amount: Decimal
    open_count: int
    overdue_amount: Decimal
    overdue_count: int
    collection_amount: Decimal
    collection_count: int
    unidentified_amount: Decimal
    unidentified_count: int
    returned_mail_count: int


def start_figures(*, ledger: Ledger, as_of: date | None = None) -> StartFigures:
    """Today's figures of one ledger, each one set-based query over the open invoices' postings."""
    as_of = as_of or ledger.today()
    open_amount, open_count, overdue_amount, overdue_count, collection_amount, collection_count = _one(
        """
        SELECT coalesce(sum(b.open), 0), count(*) FILTER (WHERE b.open <> 0),
               coalesce(sum(b.open) FILTER (WHERE b.due_date < %s), 0),
               count(*) FILTER (WHERE b.due_date < %s AND b.open > 0),
               coalesce(sum(b.open) FILTER (WHERE b.level = ANY(%s)), 0),
               count(*) FILTER (WHERE b.level = ANY(%s) AND b.open > 0)
        FROM (
            SELECT i.id, i.due_date, c.level,
                   (SELECT coalesce(sum(p.amount), 0) FROM ledger_posting p
                     WHERE p.invoice_id = i.id AND p.component <> '') AS open
            FROM ledger_invoice i LEFT JOIN claims_claim c ON c.invoice_id = i.id
            WHERE i.ledger_id = %s AND i.status <> 'closed'
        ) b
        """,
        [as_of, as_of, list(COLLECTION_LEVELS), list(COLLECTION_LEVELS), ledger.id],
    )
    unidentified_amount, unidentified_count = _one(
        """
        SELECT coalesce(-sum(p.amount), 0), count(DISTINCT y.id)
        FROM ledger_payment y
        JOIN ledger_posting p ON p.payment_id = y.id
        JOIN ledger_account a ON a.id = p.account_id AND a.role = %s
        WHERE y.ledger_id = %s AND y.status = 'unidentified'
        """,
        [AccountRole.SUSPENSE, ledger.id],
    )
    returned = ReturnedDocument.objects.filter(ledger=ledger, status=ReturnStatus.OPEN).count()
    return StartFigures(
        open_amount=open_amount,
        open_count=open_count,
        overdue_amount=overdue_amount,
        overdue_count=overdue_count,
        collection_amount=collection_amount,
        collection_count=collection_count,
        unidentified_amount=unidentified_amount,
        unidentified_count=unidentified_count,
        returned_mail_count=returned,
    )


def news_for(*, client: Client | None, limit: int = 10) -> list[News]:
    qs = News.objects.filter(visible=True)
    qs = qs.filter(Q(client__isnull=True) | Q(client=client)) if client else qs.filter(client__isnull=True)
    return list(qs[:limit])


def invoice_list(*, ledger: Ledger, status: str = "", level: str = "", page: int = 1) -> dict:
    """The ledger's invoices (section Services) by status and claim level, overdue first, a page at a
    time with each one's open amount and claim level (a fixed number of queries)."""
    qs = invoices_filtered(ledger=ledger, status=status or None)
    if level == "due_date":
        qs = qs.filter(Q(claim__isnull=True) | Q(claim__level=""))
    elif level:
        qs = qs.filter(claim__level=level)
    offset = (page - 1) * PAGE_SIZE
    invoices = list(qs.order_by("due_date", "id")[offset : offset + PAGE_SIZE + 1])
    has_next = len(invoices) > PAGE_SIZE
    invoices = invoices[:PAGE_SIZE]
    summaries = claim_summaries(ledger=ledger, invoices=invoices) if invoices else {}
    return {
        "rows": [(invoice, summaries[invoice.id]) for invoice in invoices],
        "page": page,
        "has_next": has_next,
    }


# --- Customer search -----------------------------------------------------------------------------


@dataclass
class CustomerHit:
    customer: Customer
    matched: set[str] = field(default_factory=set)
    invoices: list[Invoice] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[CustomerHit]
    page: int
    has_next: bool


def _like_prefix(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text.upper()) + "%"


def customer_search(*, ledgers: list[Ledger], query: str, page: int = 1) -> SearchResult:
    """Customers of these ledgers by customer number, invoice number, KID/OCR, national id or org. number,
    e-mail, phone (exact, each by its index) and name prefix (paged). Exact hits come first."""
    query = " ".join(query.split())
    if not query or not ledgers:
        return SearchResult(query=query, hits=[], page=1, has_next=False)
    ledger_ids = [ledger.id for ledger in ledgers]
    by_ledger = {ledger.id: ledger for ledger in ledgers}
    digits = re.sub(r"[\s\-.+]", "", query)
    hits: dict[int, CustomerHit] = {}

    def add(customer: Customer, reason: str, invoice: Invoice | None = None):
        customer.ledger = by_ledger[customer.ledger_id]
        hit = hits.setdefault(customer.id, CustomerHit(customer=customer))
        hit.matched.add(reason)
        if invoice is not None and all(i.id != invoice.id for i in hit.invoices):
            hit.invoices.append(invoice)

    if page == 1:
        exact = Q(customer_no=query)
        if digits.isdigit():
            phones = {query, digits, f"+{digits}"} | {f"+{cc}{digits}" for cc in ("47", "46", "45", "358")}
            exact |= Q(national_id__in={query, digits}) | Q(phone__in=phones)
        customers = Customer.objects.filter(ledger_id__in=ledger_ids)
        if "@" in query:
            customers = customers.annotate(email_lower=Lower("email"))
            exact |= Q(email_lower=query.lower())
        for customer in customers.filter(exact).order_by("name", "id")[:100]:
            for reason in ("customer_no", "national_id", "phone", "email"):
                if _matches(customer, reason, query, digits):
                    add(customer, reason)
        invoice_match = Q(invoice_no=query) | (Q(payment_ref=digits) if digits.isdigit() else Q(pk__in=[]))
        for invoice in (
            Invoice.objects.filter(ledger_id__in=ledger_ids)
            .filter(invoice_match)
            .select_related("customer")
            .order_by("invoice_no")[:100]
        ):
            add(invoice.customer, "invoice_no" if invoice.invoice_no == query else "payment_ref", invoice)
    has_next = False
    if len(query) >= 2 and not digits.isdigit():
        offset = (page - 1) * PAGE_SIZE
        wanted = offset + PAGE_SIZE + 1
        # Per ledger, in the order of customer_name_order_idx (ledger_id, upper(name) COLLATE "C", id): an
        # index scan that stops after `wanted` rows, whatever the prefix matches; then merged in order.
        named = sorted(
            (
                customer
                for ledger_id in ledger_ids
                for customer in Customer.objects.filter(ledger_id=ledger_id)
                .annotate(name_upper=Collate(Upper("name"), "C"))
                .extra(
                    where=['upper(ledger_customer.name) COLLATE "C" LIKE %s'], params=[_like_prefix(query)]
                )
                .order_by("name_upper", "id")[:wanted]
            ),
            key=lambda c: (c.name_upper.encode(), c.id),
        )[offset:wanted]
        has_next = len(named) > PAGE_SIZE
        for customer in named[:PAGE_SIZE]:
            add(customer, "name")
    return SearchResult(query=query, hits=list(hits.values()), page=page, has_next=has_next)


def _matches(customer: Customer, reason: str, query: str, digits: str) -> bool:
    if reason == "customer_no":
        return customer.customer_no == query
    if reason == "national_id":
        return customer.national_id in (query, digits)
    if reason == "phone":
        return bool(customer.phone) and re.sub(r"[\s\-.]", "", customer.phone).lstrip("+").endswith(digits)
    if reason == "email":
        return customer.email.lower() == query.lower()
    return False


# --- Customer page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRow:
    kind: str
    label: str
    active: bool
    changed_on: date | None
    source: str
    history: list[CustomerEvent]


def customer_page(*, ledger: Ledger, customer_no: str, invoice_page: int = 1) -> dict:
    """Everything the customer page shows; NotFound for a customer of another ledger."""
    customer = customer_get(ledger=ledger, customer_no=customer_no)
    offset = (invoice_page - 1) * PAGE_SIZE
    # Open invoices first, then the newest closed ones.
    invoices = list(
        invoices_with_balances(ledger.invoices.filter(customer=customer).select_related("customer")).order_by(
            "closed_on", "-due_date", "-id"
        )[offset : offset + PAGE_SIZE + 1]
    )
    has_next = len(invoices) > PAGE_SIZE
    invoices = invoices[:PAGE_SIZE]
    for invoice in invoices:
        invoice.ledger = ledger
    summaries = claim_summaries(ledger=ledger, invoices=invoices) if invoices else {}
    totals = (
        Posting.objects.filter(customer_id=customer.pk).exclude(component="").aggregate(total=Sum("amount"))
    )
    events = list(
        CustomerEvent.objects.filter(customer=customer)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:50]
    )
    consent_events = defaultdict(list)
    for event in events:
        if event.kind in (CustomerEventKind.CONSENT_ACTIVATED, CustomerEventKind.CONSENT_CANCELLED):
            consent_events[(event.new_value or {}).get("consent")].append(event)
    consents = [
        ConsentRow(
            kind=c.kind,
            label=c.get_kind_display(),
            active=c.active,
            changed_on=c.changed_on,
            source=c.source,
            history=consent_events.get(c.kind, []),
        )
        for c in CustomerConsent.objects.filter(customer=customer).order_by("kind")
    ]
    payments = list(Payment.objects.filter(customer=customer).order_by("-booking_date", "-id")[:25])
    documents = list(
        Document.objects.filter(customer=customer)
        .select_related("invoice")
        .order_by("-created_at", "-id")[:25]
    )
    return {
        "customer": customer,
        "invoices": [(invoice, summaries.get(invoice.id, {})) for invoice in invoices],
        "invoice_page": invoice_page,
        "invoices_have_next": has_next,
        "open_total": totals["total"] or ZERO,
        "credit_balance": customer_credit_balance(customer=customer),
        "consents": consents,
        "efaktura": EfakturaMatch.objects.filter(customer=customer).first(),
        "mandate_requests": list(customer.mandate_requests.order_by("-id")[:5]),
        "payments": payments,
        "documents": documents,
        "events": events,
        "billing_address": customer.billing_address or {},
        "minor": customer.birth_date is not None and customer.birth_date > minor_born_after(ledger.today()),
        "wards": list(Customer.objects.filter(ledger=ledger, guardian=customer).order_by("customer_no")[:20]),
    }


def customer_document_get(*, customer: Customer, document_id: int) -> Document:
    """One of the customer's documents (the customer from a tenant-scoped lookup), else NotFound."""
    document = Document.objects.filter(
        ledger_id=customer.ledger_id, customer=customer, pk=document_id
    ).first()
    if document is None:
        raise NotFound(f"document {document_id} not found for customer {customer.customer_no}",
                       code="document_not_found")  # fmt: skip
    return document


# --- Invoice page --------------------------------------------------------------------------------

# Which part of the invoice's history each kind of journal transaction is.
_REDUCED_BY = {
    TransactionKind.PAYMENT: "paid",
    TransactionKind.ALLOCATION: "paid",
    TransactionKind.CREDIT: "credited",
    TransactionKind.WRITE_OFF: "written_off",
    TransactionKind.COST_TRANSFER: "carried",
    TransactionKind.REVERSAL: "paid",
}


def invoice_page(*, ledger: Ledger, invoice_no: str, as_of: date | None = None) -> dict:
    """Everything the invoice page shows; NotFound for an invoice of another ledger."""
    invoice = invoice_get(ledger=ledger, invoice_no=invoice_no)
    invoice.ledger = ledger
    status = claim_status(invoice=invoice, as_of=as_of)
    postings = list(
        Posting.objects.filter(invoice_id=invoice.pk)
        .select_related("account", "transaction")
        .order_by("transaction__booking_date", "transaction_id", "id")
    )
    # Principal, fees and interest charged; paid, credited, written off: from the receivable postings.
    breakdown = defaultdict(lambda: ZERO)
    for posting in postings:
        if not posting.component:
            continue
        kind = posting.transaction.kind
        if posting.amount > 0 and kind in (TransactionKind.INVOICE, TransactionKind.FEE, TransactionKind.INTEREST,
                                           TransactionKind.COST_TRANSFER):  # fmt: skip
            breakdown[f"charged_{posting.component}"] += posting.amount
        elif kind in _REDUCED_BY:
            breakdown[_REDUCED_BY[kind]] -= posting.amount
        else:
            breakdown[f"charged_{posting.component}"] += posting.amount
    claim = Claim.objects.filter(invoice=invoice).first()
    documents = list(Document.objects.filter(invoice=invoice).order_by("created_at", "id"))
    attempts = defaultdict(list)
    for event in DocumentEvent.objects.filter(document__invoice=invoice).order_by("created_at", "id"):
        attempts[event.document_id].append(event)
    returns = list(ReturnedDocument.objects.filter(invoice=invoice).order_by("created_at", "id"))
    payments = list(
        PaymentEvent.objects.filter(transaction__invoice=invoice)
        .select_related("payment", "transaction")
        .order_by("booking_date", "id")
    )
    paid_by_payment = list(
        Payment.objects.filter(Q(invoice=invoice) | Q(postings__invoice=invoice))
        .distinct()
        .order_by("booking_date", "id")
    )
    return {
        "invoice": invoice,
        "claim": claim,
        "claim_status": status,
        # A recalled claim has left collection (the creditor withdrew it); a stopped one stays there, halted.
        "in_collection": bool(claim and claim.level in COLLECTION_LEVELS and claim.status != ClaimStatus.RECALLED),
        "pay_to": pay_to_account(ledger=invoice.ledger, level=claim.level if claim else ""),
        "claim_active": bool(claim is None or claim.status == ClaimStatus.ACTIVE),
        "breakdown": dict(breakdown),
        "events": list(invoice_events(invoice=invoice)),
        "documents": [(document, attempts.get(document.id, [])) for document in documents],
        "attachments": list(InvoiceAttachment.objects.filter(invoice=invoice).order_by("position")),
        "returns": returns,
        "distribution_status": invoice_distribution_status(invoice=invoice),
        "payment_events": payments,
        "payments": paid_by_payment,
        "postings": postings,
        "today": as_of or ledger.today(),
    }
