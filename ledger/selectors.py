"""Reads of the ledger core. Everything a user or token reaches goes through a tenant-scoped selector."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .errors import FileRejected, NotFound, ValidationFailed
from .models import (
    AccountRole,
    ActionLogEntry,
    Component,
    Customer,
    CustomerConsent,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Ledger,
    Payment,
    Posting,
    User,
)
from .money import ZERO

_MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)


def _component_sum(component: str):
    return Coalesce(
        Sum("postings__amount", filter=Q(postings__component=component)),
        Value(ZERO),
        output_field=_MONEY_FIELD,
    )


# --- Tenancy -------------------------------------------------------------------------------------


def ledgers_for_user(user: User) -> QuerySet[Ledger]:
    """The ledgers a user may see: their client's, or all of them for our own staff."""
    if not user.is_authenticated or not user.is_active:
        return Ledger.objects.none()
    if user.client_id is not None:
        return Ledger.objects.filter(client_id=user.client_id)
    if user.is_staff:
        return Ledger.objects.all()
    return Ledger.objects.none()


def ledger_get(*, company_no: str, user: User | None = None) -> Ledger:
    """A ledger by CUSIN CompanyNo; with a user, only if that user may see it (else NotFound, never a hint)."""
    qs = Ledger.objects.all() if user is None else ledgers_for_user(user)
    ledger = qs.filter(company_no=company_no).first()
    if ledger is None:
        raise NotFound(f"ledger {company_no} not found", code="ledger_not_found")
    return ledger


def _normalise_account(value: str) -> str:
    text = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return text.lstrip("0") if text.isdigit() else text


def bank_role_for(ledger: Ledger, receiving_account: str) -> str:
    """The account role money paid into `receiving_account` is booked on: the collection client-funds
    account's own, or the client-funds account's (any other account the file names: a --ledger file)."""
    if ledger.collection_funds_account and same_account(ledger.collection_funds_account, receiving_account):
        return AccountRole.COLLECTION_FUNDS_BANK
    return AccountRole.CLIENT_FUNDS_BANK


def same_account(configured: str, received: str) -> bool:
    """Same account, also when one side is an IBAN and the other the domestic number inside it."""
    a, b = _normalise_account(configured), _normalise_account(received)
    if not a or not b:
        return False
    if a == b:
        return True
    for iban, domestic in ((a, b), (b, a)):
        if iban[:2].isalpha() and iban[2:4].isdigit() and domestic.isdigit():
            if iban[4:].lstrip("0") == domestic:
                return True
    return False


def ledger_for_account(*, accounts: Sequence[str], company_no: str | None = None) -> Ledger:
    """The ledger whose client-funds account (or collection client-funds account) a bank's file names, or
    the one given, if it agrees.

    Raises FileRejected (ledger_not_found, account_of_another_ledger, unknown_account, several_ledgers).
    """
    owners = {
        ledger.company_no: ledger
        for ledger in Ledger.objects.exclude(client_funds_account="", collection_funds_account="")
        for account in accounts
        if same_account(ledger.client_funds_account, account) or same_account(ledger.collection_funds_account, account)
    }
    if company_no:
        ledger = Ledger.objects.filter(company_no=company_no).first()
        if ledger is None:
            raise FileRejected(f"no ledger has CompanyNo {company_no}", code="ledger_not_found")
        others = sorted(set(owners) - {ledger.company_no})
        if others:
            raise FileRejected(
                f"the file's receiving account {', '.join(accounts)} is the client-funds account of "
                f"ledger {', '.join(others)}, not of ledger {company_no}",
                code="account_of_another_ledger",
            )
        return ledger
    if not owners:
        raise FileRejected(
            f"no ledger has the receiving account {', '.join(accounts) or '(none in the file)'} as its "
            "client-funds account; set it with create_ledger --account, or give --ledger",
            code="unknown_account",
        )
    if len(owners) > 1:
        raise FileRejected(
            f"the file pays into accounts of several ledgers ({', '.join(sorted(owners))}); split it per ledger",
            code="several_ledgers",
        )
    return next(iter(owners.values()))


# --- Invoice balances ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    capital: Decimal
    fees: Decimal
    interest: Decimal

    @property
    def open_amount(self) -> Decimal:
        return self.capital + self.fees + self.interest


def invoices_with_balances(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate capital, fees, interest and open_amount from the postings: one query for a page."""
    return queryset.annotate(
        capital=_component_sum(Component.CAPITAL),
        fees=_component_sum(Component.FEE),
        interest=_component_sum(Component.INTEREST),
    ).annotate(open_amount=F("capital") + F("fees") + F("interest"))


def invoice_balance(invoice: Invoice) -> Balance:
    sums = dict(
        Posting.objects.filter(invoice_id=invoice.pk)
        .exclude(component="")
        .values_list("component")
        .annotate(total=Sum("amount"))
        .values_list("component", "total")
    )
    return Balance(
        capital=sums.get(Component.CAPITAL, ZERO),
        fees=sums.get(Component.FEE, ZERO),
        interest=sums.get(Component.INTEREST, ZERO),
    )


def invoices_for_ledger(*, ledger: Ledger, status: str | None = None) -> QuerySet[Invoice]:
    qs = Invoice.objects.filter(ledger=ledger).select_related("customer")
    if status:
        qs = qs.filter(status=status)
    return invoices_with_balances(qs).order_by("due_date", "id")


def invoice_get(*, ledger: Ledger, invoice_no: str) -> Invoice:
    invoice = invoices_with_balances(
        Invoice.objects.filter(ledger=ledger, invoice_no=invoice_no).select_related("customer", "ledger")
    ).first()
    if invoice is None:
        raise NotFound(
            f"invoice {invoice_no} not found in ledger {ledger.company_no}",
            code="invoice_not_found",
            params={"number": invoice_no},
        )
    return invoice


def invoice_events(*, invoice: Invoice) -> QuerySet[InvoiceEvent]:
    return (
        InvoiceEvent.objects.filter(invoice=invoice).select_related("created_by").order_by("created_at", "id")
    )


def invoice_detail(*, ledger: Ledger, invoice_no: str) -> dict:
    """The invoice as operators and `show_invoice` see it: amounts as strings, events with who and why."""
    invoice = invoice_get(ledger=ledger, invoice_no=invoice_no)
    return {
        "ledger": ledger.company_no,
        "invoice_no": invoice.invoice_no,
        "customer_no": invoice.customer.customer_no,
        "status": invoice.status,
        "currency": invoice.currency,
        "amount": str(invoice.amount),
        "capital": str(invoice.capital),
        "fees": str(invoice.fees),
        "interest": str(invoice.interest),
        "open_amount": str(invoice.open_amount),
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "respite_until": invoice.respite_until.isoformat() if invoice.respite_until else None,
        "closed_on": invoice.closed_on.isoformat() if invoice.closed_on else None,
        "payment_ref": invoice.payment_ref,
        "events": [
            {
                "kind": e.kind,
                "date": e.booking_date.isoformat(),
                "who": e.actor,
                "why": e.reason,
                "from": e.from_status,
                "to": e.to_status,
                "at": e.created_at.isoformat(),
            }
            for e in invoice_events(invoice=invoice)
        ],
    }


# What an invoice read for the API loads: the invoice without its print blocks, and of the customer
# only the number and what the claim process reads (a page of 50 would otherwise build 50 full customers).
_INVOICE_READ = (
    *(f.name for f in Invoice._meta.concrete_fields if f.name != "print_blocks"),
    "customer__customer_no",
    "customer__ledger_id",
    "customer__legal_entity",
    "customer__country",
)


def invoices_filtered(
    *,
    ledger: Ledger,
    status: str | None = None,
    customer_no: str | None = None,
    external_id: str | None = None,
    invoice_no: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    invoice_date_from: date | None = None,
    invoice_date_to: date | None = None,
) -> QuerySet[Invoice]:
    """A ledger's invoices by the API's filters (unordered, without balances: the API reads them with claims.selectors.claim_summaries)."""
    # Through the ledger's related manager: each invoice gets `ledger` set without a join.
    qs = ledger.invoices.select_related("customer").only(*_INVOICE_READ)
    if status:
        qs = qs.filter(status=status)
    if customer_no:
        # The customer's id first: with a constant id the planner uses the customer's own invoices
        # (an index on customer_id) instead of walking the ledger's list and filtering.
        customer_id = Customer.objects.filter(ledger=ledger, customer_no=customer_no).values_list(
            "id", flat=True
        )
        qs = qs.filter(customer_id=customer_id.first() or 0)
    if external_id:
        qs = qs.filter(external_id=external_id)
    if invoice_no:
        qs = qs.filter(invoice_no=invoice_no)
    if due_from:
        qs = qs.filter(due_date__gte=due_from)
    if due_to:
        qs = qs.filter(due_date__lte=due_to)
    if invoice_date_from:
        qs = qs.filter(invoice_date__gte=invoice_date_from)
    if invoice_date_to:
        qs = qs.filter(invoice_date__lte=invoice_date_to)
    return qs


# invoice_find in plain SQL: it runs on every GET of an invoice, where compiling the ORM query cost
# more than the database work. The columns are the model's, so the SQL follows the model.
_INVOICE_FIND_FIELDS = [f for f in Invoice._meta.concrete_fields if f.name != "print_blocks"]
_INVOICE_FIND_SQL = (
    "SELECT "
    + ", ".join(f"i.{f.column}" for f in _INVOICE_FIND_FIELDS)
    + ", c.customer_no, c.legal_entity, c.country FROM ledger_invoice i JOIN ledger_customer c ON c.id = i.customer_id"
    " WHERE i.ledger_id = %s AND i.invoice_no = %s"
)


def invoice_find(*, ledger: Ledger, invoice_no: str) -> Invoice:
    """The invoice row (without print blocks) with its ledger and its customer's number (no balances:
    see claims.selectors.claim_summaries); NotFound if none."""
    rows = _fetch(_INVOICE_FIND_SQL, [ledger.id, invoice_no])
    if not rows:
        raise NotFound(
            f"invoice {invoice_no} not found in ledger {ledger.company_no}",
            code="invoice_not_found",
            params={"number": invoice_no},
        )
    *values, customer_no, legal_entity, country = rows[0]
    invoice = Invoice.from_db("default", [f.attname for f in _INVOICE_FIND_FIELDS], values)
    invoice.ledger = ledger
    invoice.customer = Customer.from_db(
        "default",
        ["id", "ledger_id", "customer_no", "legal_entity", "country"],
        [invoice.customer_id, ledger.id, customer_no, legal_entity, country],
    )
    return invoice


def invoice_get_by_external_id(*, ledger: Ledger, external_id: str) -> Invoice:
    """The one invoice with this external id; NotFound if none, ValidationFailed if it is not unique."""
    matches = list(
        ledger.invoices.filter(external_id=external_id).select_related("customer").only(*_INVOICE_READ)[:2]
    )
    if not matches or not external_id:
        raise NotFound(
            f"no invoice with external id {external_id!r} in ledger {ledger.company_no}",
            code="invoice_not_found",
            params={"number": external_id},
        )
    if len(matches) > 1:
        raise ValidationFailed(
            f"several invoices have external id {external_id!r}; ask by invoice number",
            code="external_id_not_unique",
            field="external_id",
        )
    return matches[0]


def customer_get(*, ledger: Ledger, customer_no: str) -> Customer:
    customer = (
        Customer.objects.filter(ledger=ledger, customer_no=customer_no).select_related("ledger").first()
    )
    if customer is None:
        raise NotFound(
            f"customer {customer_no} not found in ledger {ledger.company_no}",
            code="customer_not_found",
            params={"number": customer_no},
        )
    return customer


def customers_by_no(*, ledger: Ledger, customer_nos: Sequence[str]) -> dict[str, Customer]:
    return {
        c.customer_no: c
        for c in Customer.objects.filter(ledger=ledger, customer_no__in=list(customer_nos)).select_related(
            "ledger"
        )
    }


def customer_consents(*, customer: Customer) -> QuerySet[CustomerConsent]:
    return CustomerConsent.objects.filter(customer=customer).order_by("kind")


def customer_open_invoices(*, customer: Customer) -> QuerySet[Invoice]:
    return (
        customer.ledger.invoices.filter(customer=customer)
        .exclude(status=InvoiceStatus.CLOSED)
        .select_related("customer")
    )


def payments_for_ledger(*, ledger: Ledger, status: str | None = None) -> QuerySet[Payment]:
    qs = Payment.objects.filter(ledger=ledger).select_related("invoice", "customer")
    if status:
        qs = qs.filter(status=status)
    return qs


def payment_get(*, ledger: Ledger, payment_id: int) -> Payment:
    payment = payments_for_ledger(ledger=ledger).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(
            f"payment {payment_id} not found in ledger {ledger.company_no}",
            code="payment_not_found",
            params={"number": payment_id},
        )
    return payment


# Only these bookings may move a customer's credit balance.
CREDIT_KINDS = ("payment", "allocation", "payout", "reversal")


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def action_log_for_client(*, client_id: int, before_id: int | None = None) -> QuerySet[ActionLogEntry]:
    """A client's action log, newest first; `before_id` pages by key (the log only grows)."""
    rows = ActionLogEntry.objects.filter(client_id=client_id).select_related("ledger").order_by("-id")
    return rows if before_id is None else rows.filter(id__lt=before_id)
