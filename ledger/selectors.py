"""Reads of the ledger core. Everything a user or token reaches goes through a tenant-scoped selector."""

from collections import defaultdict
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
    Component,
    Customer,
    CustomerConsent,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    JournalTransaction,
    Ledger,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    Posting,
    User,
)
from .money import ZERO
from .summaries import ledger_summaries_problems

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
    """The ledger whose client-funds account a bank's file names, or the one given, if it agrees.

    Raises FileRejected (ledger_not_found, account_of_another_ledger, unknown_account, several_ledgers).
    """
    owners = {
        ledger.company_no: ledger
        for ledger in Ledger.objects.exclude(client_funds_account="")
        for account in accounts
        if same_account(ledger.client_funds_account, account)
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
            f"invoice {invoice_no} not found in ledger {ledger.company_no}", code="invoice_not_found",
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
            f"invoice {invoice_no} not found in ledger {ledger.company_no}", code="invoice_not_found",
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
            f"customer {customer_no} not found in ledger {ledger.company_no}", code="customer_not_found",
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
            f"payment {payment_id} not found in ledger {ledger.company_no}", code="payment_not_found",
            params={"number": payment_id},
        )
    return payment


# --- Reconciliation ------------------------------------------------------------------------------


def _check(name: str, discrepancies: list) -> dict:
    return {
        "check": name,
        "ok": not discrepancies,
        "discrepancies": discrepancies[:50],
        "count": len(discrepancies),
    }


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ledger_verify(*, ledger: Ledger) -> list[dict]:
    """The auditor's reconciliation of one ledger: each check with the discrepancies it found."""
    lid = ledger.id
    receivable_roles = [
        AccountRole.RECEIVABLE_CAPITAL,
        AccountRole.RECEIVABLE_FEE,
        AccountRole.RECEIVABLE_INTEREST,
    ]
    checks = []

    unbalanced = _fetch(
        """SELECT p.transaction_id, p.currency, sum(p.amount) FROM ledger_posting p
            WHERE p.ledger_id = %s GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0""",
        [lid],
    )
    empty = JournalTransaction.objects.filter(ledger=ledger, postings__isnull=True).values_list(
        "id", flat=True
    )
    checks.append(
        _check(
            "transactions_balance",
            [{"transaction": t, "currency": c, "sum": str(s)} for t, c, s in unbalanced]
            + [{"transaction": t, "problem": "no postings"} for t in empty],
        )
    )

    # Stored status against the postings: closed exactly when nothing is open, no component negative.
    mismatched = []
    for inv in (
        invoices_with_balances(Invoice.objects.filter(ledger=ledger))
        .filter(
            (Q(status=InvoiceStatus.CLOSED) & ~Q(open_amount=0))
            | (~Q(status=InvoiceStatus.CLOSED) & Q(open_amount=0))
            | Q(capital__lt=0)
            | Q(fees__lt=0)
            | Q(interest__lt=0)
        )
        .values("invoice_no", "status", "capital", "fees", "interest", "open_amount")
    ):
        mismatched.append({k: str(v) for k, v in inv.items()})
    checks.append(_check("invoice_status_matches_postings", mismatched))

    receivable_rows = _fetch(
        """SELECT a.role, a.number,
                  coalesce(sum(p.amount), 0) AS account_balance,
                  coalesce(sum(p.amount) FILTER (WHERE p.invoice_id IS NOT NULL AND p.component <> ''), 0)
                      AS open_items,
                  count(p.id) FILTER (WHERE p.invoice_id IS NULL OR p.component = '') AS stray
             FROM ledger_account a LEFT JOIN ledger_posting p ON p.account_id = a.id
            WHERE a.ledger_id = %s AND a.role = ANY(%s)
            GROUP BY a.role, a.number""",
        [lid, receivable_roles],
    )
    stray_components = _fetch(
        """SELECT p.id, a.role, p.component FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND p.component <> '' AND NOT (
                (p.component = 'capital' AND a.role = 'receivable_capital')
             OR (p.component = 'fee' AND a.role = 'receivable_fee')
             OR (p.component = 'interest' AND a.role = 'receivable_interest'))""",
        [lid],
    )
    checks.append(
        _check(
            "receivables_equal_open_items",
            [
                {
                    "account": number,
                    "role": role,
                    "account_balance": str(bal),
                    "open_items": str(items),
                    "postings_without_invoice": stray,
                }
                for role, number, bal, items, stray in receivable_rows
                if bal != items or stray
            ]
            + [
                {
                    "posting": pid,
                    "role": role,
                    "component": comp,
                    "problem": "component on a non-matching account",
                }
                for pid, role, comp in stray_components
            ],
        )
    )

    # Suspense holds exactly the unallocated part of unidentified payments.
    suspense_rows = _fetch(
        """SELECT pay.id, pay.bank_archive_ref, pay.status, coalesce(-sum(p.amount), 0) AS unallocated
             FROM ledger_payment pay
             LEFT JOIN ledger_posting p ON p.payment_id = pay.id
                  AND p.account_id IN (SELECT id FROM ledger_account WHERE ledger_id = %s AND role = 'suspense')
            WHERE pay.ledger_id = %s
            GROUP BY pay.id, pay.bank_archive_ref, pay.status""",
        [lid, lid],
    )
    suspense_problems = []
    for _payment_id, archive_ref, status, unallocated in suspense_rows:
        unidentified = status == Payment.Status.UNIDENTIFIED
        if unallocated < 0 or (unidentified and unallocated == 0) or (not unidentified and unallocated != 0):
            suspense_problems.append(
                {"payment": archive_ref, "status": status, "unallocated": str(unallocated)}
            )
    stray_suspense = _fetch(
        """SELECT p.id, p.amount FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND a.role = 'suspense' AND p.payment_id IS NULL""",
        [lid],
    )
    suspense_problems += [
        {"posting": pid, "amount": str(amount), "problem": "suspense posting without payment"}
        for pid, amount in stray_suspense
    ]
    checks.append(_check("suspense_equals_unallocated_payments", suspense_problems))
    checks.append(_check("bank_in_equals_bank_files", _bank_in_problems(ledger)))
    checks.append(_check("customer_credit_equals_surplus", _customer_credit_problems(ledger)))
    checks.append(_check("payouts_equal_journal", _payout_problems(ledger)))
    checks.append(_check("dashboard_summaries_equal_journal", ledger_summaries_problems(ledger=ledger)))
    return checks


def _bank_in_problems(ledger: Ledger) -> list[dict]:
    """Money in on the client-funds account per booking date equals what the bank files of that date
    brought (plus payments registered without a file), and each payment brought exactly its amount."""
    lid = ledger.id
    journal = dict(
        _fetch(
            """SELECT t.booking_date, sum(p.amount) FROM ledger_posting p
                 JOIN ledger_journaltransaction t ON t.id = p.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE p.ledger_id = %s AND t.kind = 'payment' AND a.role = 'client_funds_bank'
                GROUP BY t.booking_date""",
            [lid],
        )
    )
    files: dict[date, Decimal] = defaultdict(Decimal)
    for summary in PaymentFile.objects.filter(ledger=ledger, status=PaymentFileStatus.ACCEPTED).values_list(
        "summary", flat=True
    ):
        for day, amount in (summary or {}).get("booked_by_date", {}).items():
            files[date.fromisoformat(day)] += Decimal(amount)
    for day, amount in (
        Payment.objects.filter(ledger=ledger, file__isnull=True)
        .values_list("booking_date")
        .annotate(total=Sum("amount"))
        .values_list("booking_date", "total")
    ):
        files[day] += amount
    problems = [
        {
            "booking_date": day.isoformat(),
            "journal": str(journal.get(day, ZERO)),
            "bank_files": str(files.get(day, ZERO)),
        }
        for day in sorted(set(journal) | set(files))
        if journal.get(day, ZERO) != files.get(day, ZERO)
    ]
    problems += [
        {"payment": ref, "amount": str(amount), "booked_on_bank": str(booked)}
        for ref, amount, booked in _fetch(
            """SELECT pay.bank_archive_ref, pay.amount, coalesce(sum(b.amount), 0)
                 FROM ledger_payment pay
                 LEFT JOIN (ledger_posting b
                            JOIN ledger_journaltransaction t ON t.id = b.transaction_id AND t.kind = 'payment'
                            JOIN ledger_account a ON a.id = b.account_id AND a.role = 'client_funds_bank')
                   ON b.payment_id = pay.id
                WHERE pay.ledger_id = %s
                GROUP BY pay.id, pay.bank_archive_ref, pay.amount
               HAVING coalesce(sum(b.amount), 0) <> pay.amount""",
            [lid],
        )
    ]
    return problems


# Only these bookings may move a customer's credit balance.
CREDIT_KINDS = ("payment", "allocation", "payout", "reversal")


def _customer_credit_problems(ledger: Ledger) -> list[dict]:
    """The customer-credit account is exactly the customers' surplus: every posting names a customer,
    comes from a payment, allocation, payout or reversal, and no customer's surplus is negative."""
    lid = ledger.id
    rows = _fetch(
        """SELECT c.customer_no, sum(p.amount) FROM ledger_posting p
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
             JOIN ledger_customer c ON c.id = p.customer_id
            WHERE p.ledger_id = %s
            GROUP BY c.customer_no HAVING sum(p.amount) > 0""",
        [lid],
    )
    problems = [
        {"customer": no, "surplus": str(-balance), "problem": "negative credit balance"}
        for no, balance in rows
    ]
    problems += [
        {"posting": pid, "amount": str(amount), "kind": kind, "problem": problem}
        for pid, amount, kind, problem in _fetch(
            """SELECT p.id, p.amount, t.kind,
                      CASE WHEN p.customer_id IS NULL THEN 'credit posting without customer'
                           ELSE 'credit posting from a ' || t.kind || ' transaction' END
                 FROM ledger_posting p
                 JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
                 JOIN ledger_journaltransaction t ON t.id = p.transaction_id
                WHERE p.ledger_id = %s AND (p.customer_id IS NULL OR t.kind <> ALL(%s))""",
            [lid, list(CREDIT_KINDS)],
        )
    ]
    return problems


def _payout_problems(ledger: Ledger) -> list[dict]:
    """Every PAYOUT transaction has its Payout (what pain.001 will send), for what left the bank account."""
    return [
        {"transaction": tid, "payout": payout_id, "payout_amount": str(amount), "bank_out": str(out)}
        for tid, payout_id, amount, out in _fetch(
            """SELECT t.id, po.id, po.amount,
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank'), 0)
                 FROM ledger_journaltransaction t
                 LEFT JOIN ledger_payout po ON po.transaction_id = t.id
                 LEFT JOIN ledger_posting p ON p.transaction_id = t.id
                 LEFT JOIN ledger_account a ON a.id = p.account_id
                WHERE t.ledger_id = %s AND t.kind = 'payout'
                GROUP BY t.id, po.id, po.amount
               HAVING po.id IS NULL
                   OR po.amount <> coalesce(-sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank'), 0)
               UNION ALL
               SELECT t.id, po.id, po.amount, 0
                 FROM ledger_payout po JOIN ledger_journaltransaction t ON t.id = po.transaction_id
                WHERE po.ledger_id = %s AND (t.kind <> 'payout' OR t.ledger_id <> po.ledger_id)""",
            [ledger.id, ledger.id],
        )
    ]
