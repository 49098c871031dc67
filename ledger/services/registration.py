"""Invoice registration: one batch path (`invoices_register`) used by the single-invoice service, CUSIN
import and the API alike; it writes with COPY so that large files book fast.

Why one module past 500 lines: the checks of the inputs, the COPY of the rows and the read models the
registration writes itself are one path, read top to bottom (bench_register_invoices.py measures it
whole); split, the COPY columns and the rows they take would sit apart."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger import references
from ledger.bulk import _copy_field, _copy_lines, _int_array, _next_ids, _text_array, read_models_written_here
from ledger.dbstats import analyze_if_never_analyzed
from ledger.errors import ValidationFailed
from ledger.models import (
    AccountDay,
    AccountRole,
    Component,
    Customer,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    RegistrationDay,
    TransactionKind,
    User,
)
from ledger.money import to_money
from ledger.services.common import _actor_fields
from ledger.services.journal import _accounts_by_role

# --- Invoice registration ------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceInput:
    customer: Customer
    invoice_no: str
    invoice_date: date
    amount: Decimal
    due_date: date | None = None
    payment_ref: str | None = None
    currency: str | None = None
    external_id: str = ""
    reference_text: str = ""
    amount_excl_vat: Decimal | None = None
    vat_amount: Decimal | None = None
    with_distribution: bool = True
    distribution_type: str = ""
    print_blocks: list | dict | None = None
    # Another payer: a customer of the same ledger who receives the documents and the claim process.
    payer: Customer | None = None


# From this many invoices on, a registration makes sure the planner has statistics (ledger/dbstats.py).
BULK_SIZE = 100

# The invoice columns registration writes with COPY (the rest keep their NULL defaults).
INVOICE_COPY_COLUMNS = [
    "id", "ledger_id", "customer_id", "invoice_no", "external_id", "payment_ref", "invoice_date", "due_date",
    "currency", "amount", "reference_text", "amount_excl_vat", "vat_amount", "with_distribution",
    "distribution_type", "print_blocks", "status", "created_at", "payer_id",
]  # fmt: skip


@dataclass
class _Prepared:
    source: InvoiceInput
    amount: Decimal
    due_date: date
    payment_ref: str | None


# The text fields every caller (CUSIN, the API, 360, the demo) hands over, checked against the columns
# they are written to, so that a long value is refused naming its field instead of failing in COPY.
TEXT_FIELDS = ("external_id", "reference_text", "distribution_type", "currency")
# numeric(18, 2): what an amount may hold
MONEY_LIMIT = Decimal(10) ** (Invoice._meta.get_field("amount").max_digits - 2)


def _check_lengths(item: InvoiceInput) -> None:
    for name in TEXT_FIELDS:
        value, limit = getattr(item, name) or "", Invoice._meta.get_field(name).max_length
        if len(value) > limit:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: {name} has {len(value)} characters, at most {limit} are kept",
                code="field_too_long", field=name,
            )  # fmt: skip
    for name in ("amount", "amount_excl_vat", "vat_amount"):
        value = getattr(item, name)
        if isinstance(value, Decimal) and value.is_finite() and abs(value) >= MONEY_LIMIT:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: {name} {value} is too large (less than {MONEY_LIMIT:,} is kept)",
                code="amount_too_large", field=name,
            )  # fmt: skip


def _validate_invoice_inputs(ledger: Ledger, invoices: Sequence[InvoiceInput]) -> list[_Prepared]:
    prepared = []
    scheme = references.ReferenceScheme(ledger.reference_scheme)
    for item in invoices:
        if item.customer.ledger_id != ledger.id:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: customer {item.customer.customer_no} belongs to another ledger",
                code="customer_not_in_ledger",
                field="customer",
            )
        if item.payer is not None and item.payer.ledger_id != ledger.id:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: payer {item.payer.customer_no} belongs to another ledger",
                code="payer_not_in_ledger", field="payer",
            )  # fmt: skip
        if item.payer is not None and item.payer.pk == item.customer.pk:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: the other payer {item.payer.customer_no} is the invoice's own customer",
                code="payer_is_customer", field="payer",
            )  # fmt: skip
        if not item.invoice_no or len(item.invoice_no) > 40:
            raise ValidationFailed(
                f"invoice_no must be 1-40 characters, got {item.invoice_no!r}", field="invoice_no"
            )
        _check_lengths(item)
        try:
            amount = to_money(item.amount)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"invoice {item.invoice_no}: {exc}", field="amount") from exc
        if amount <= 0:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: amount must be positive, got {amount}",
                code="amount_not_positive",
                field="amount",
            )
        currency = (item.currency or ledger.currency).upper()
        if currency != ledger.currency:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: currency {currency} is not the ledger's {ledger.currency}",
                code="currency_mismatch",
                field="currency",
            )
        due_date = item.due_date or item.invoice_date + timedelta(days=ledger.payment_terms_days)
        if due_date < item.invoice_date:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: due date {due_date} is before invoice date {item.invoice_date}",
                code="due_before_invoice_date",
                field="due_date",
            )
        payment_ref = None
        if item.payment_ref:
            try:
                payment_ref = references.validate(item.payment_ref, scheme=scheme, ledger_id=ledger.ledger_no)
            except references.InvalidReference as exc:
                raise ValidationFailed(
                    f"invoice {item.invoice_no}: payment reference {item.payment_ref}: {exc}",
                    code="invalid_payment_ref",
                    field="payment_ref",
                ) from exc
        prepared.append(_Prepared(source=item, amount=amount, due_date=due_date, payment_ref=payment_ref))

    for invoice_no, count in Counter(p.source.invoice_no for p in prepared).items():
        if count > 1:
            raise ValidationFailed(
                f"invoice_no {invoice_no} appears {count} times",
                code="duplicate_invoice_no",
                field="invoice_no",
            )
    for ref, count in Counter(p.payment_ref for p in prepared if p.payment_ref).items():
        if count > 1:
            raise ValidationFailed(
                f"payment reference {ref} appears {count} times",
                code="duplicate_payment_ref",
                field="payment_ref",
            )
    return prepared


def _existing(ledger: Ledger, column: str, values: Iterable[str]) -> set[str]:
    """The values of `column` (invoice_no or payment_ref) already in the ledger: one plain query."""
    values = list(values)
    if not values:
        return set()
    assert column in ("invoice_no", "payment_ref")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM ledger_invoice WHERE ledger_id = %s AND {column} = ANY(%s::text[])",
            [ledger.id, _text_array(values)],  # a literal: psycopg's list adaptation costs more
        )
        return {row[0] for row in cursor.fetchall()}


def _assign_payment_refs(ledger: Ledger, prepared: list[_Prepared]) -> None:
    """Give every invoice without a reference a new one, never colliding with a reference in use."""
    scheme = references.ReferenceScheme(ledger.reference_scheme)
    taken = {p.payment_ref for p in prepared if p.payment_ref}
    pending = [p for p in prepared if not p.payment_ref]
    while pending:
        generated = []
        if scheme in (references.ReferenceScheme.KID_MOD10, references.ReferenceScheme.KID_MOD11):
            serials = _next_customer_serials(Counter(p.source.customer.id for p in pending))
            for p in pending:
                serial = serials[p.source.customer.id].pop(0)
                try:
                    ref = references.generate(
                        scheme=scheme,
                        ledger_id=ledger.ledger_no,
                        customer_no=p.source.customer.customer_no,
                        serial=serial,
                    )
                except references.NoCheckDigit:
                    ref = None  # this serial has no mod-11 check digit: take the next one
                except references.InvalidReference as exc:
                    raise ValidationFailed(
                        f"invoice {p.source.invoice_no}: cannot make a KID for customer "
                        f"{p.source.customer.customer_no}: {exc}",
                        code="payment_ref_unavailable",
                        field="payment_ref",
                    ) from exc
                generated.append((p, ref))
        else:
            first = _next_ledger_serials(ledger, len(pending))
            for offset, p in enumerate(pending):
                try:
                    ref = references.generate(
                        scheme=scheme, ledger_id=ledger.ledger_no, customer_no="", serial=first + offset
                    )
                except references.InvalidReference as exc:
                    raise ValidationFailed(
                        f"ledger {ledger.company_no} has run out of OCR references: {exc}",
                        code="payment_ref_unavailable",
                        field="payment_ref",
                    ) from exc
                generated.append((p, ref))
        in_use = _existing(ledger, "payment_ref", [ref for _, ref in generated if ref]) | taken
        pending = []
        for p, ref in generated:
            if ref is None or ref in in_use:
                pending.append(p)
            else:
                p.payment_ref = ref
                taken.add(ref)


def _next_customer_serials(counts: Counter) -> dict[int, list[int]]:
    """Reserve consecutive KID serials per customer with one UPDATE."""
    ids = list(counts)
    increments = [counts[i] for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE ledger_customer AS c
               SET last_reference_serial = c.last_reference_serial + v.n
              FROM unnest(%s::bigint[], %s::int[]) AS v(id, n)
             WHERE c.id = v.id
         RETURNING c.id, c.last_reference_serial
            """,
            # Array literals as text: psycopg's list adaptation costs more than the UPDATE itself.
            [_int_array(ids), _int_array(increments)],
        )
        rows = cursor.fetchall()
    return {cid: list(range(last - counts[cid] + 1, last + 1)) for cid, last in rows}


def _next_ledger_serials(ledger: Ledger, count: int) -> int:
    """Reserve `count` consecutive OCR serials for the ledger; returns the first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledger SET last_reference_serial = last_reference_serial + %s WHERE id = %s "
            "RETURNING last_reference_serial",
            [count, ledger.id],
        )
        (last,) = cursor.fetchone()
    return last - count + 1


@dataclass(frozen=True, slots=True)
class RegisteredInvoice:
    """What a bulk registration wrote for one invoice (plain values, no model instance)."""

    id: int
    transaction_id: int
    invoice_no: str
    payment_ref: str
    amount: Decimal
    due_date: date
    reference_text: str
    created_at: datetime


INVOICE_TRANSACTION_COPY_COLUMNS = [
    "id", "ledger_id", "booking_date", "kind", "cause", "description", "invoice_id", "created_by_id", "actor",
    "created_at",
]  # fmt: skip
INVOICE_POSTING_COPY_COLUMNS = [
    "transaction_id", "ledger_id", "invoice_id", "customer_id", "account_id", "component", "amount", "currency",
]  # fmt: skip
INVOICE_REGISTERED_EVENT_COPY_COLUMNS = [
    "ledger_id", "invoice_id", "kind", "from_status", "to_status", "booking_date", "reason", "transaction_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip


def invoices_register_rows(
    *,
    ledger: Ledger,
    invoices: Sequence[InvoiceInput],
    actor: User | str | None,
    booking_date: date | None = None,
    existence_checked: bool = False,
) -> list[RegisteredInvoice]:
    """`invoices_register` for bulk callers: the same rows written, plain values returned.

    existence_checked=True: the caller has already looked up, inside its own database transaction,
    that none of the invoice numbers and given payment references is in the ledger (a CUSIN batch
    does, to report each one). The lookup is then not repeated; the unique keys still refuse a
    duplicate (a concurrent registration), which raises ValidationFailed("registration_conflict").
    """
    if not invoices:
        return []
    booking_date = booking_date or ledger.today()
    prepared = _validate_invoice_inputs(ledger, invoices)
    if len(prepared) >= BULK_SIZE:
        analyze_if_never_analyzed()
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    ledger_id, currency = ledger.id, ledger.currency
    try:
        with transaction.atomic():
            if not existence_checked:
                duplicates = _existing(ledger, "invoice_no", [p.source.invoice_no for p in prepared])
                if duplicates:
                    raise ValidationFailed(
                        f"invoice_no already registered: {', '.join(sorted(duplicates))}",
                        code="duplicate_invoice_no",
                        field="invoice_no",
                    )
                used_refs = _existing(
                    ledger, "payment_ref", [p.payment_ref for p in prepared if p.payment_ref]
                )
                if used_refs:
                    raise ValidationFailed(
                        f"payment reference already in use: {', '.join(sorted(used_refs))}",
                        code="duplicate_payment_ref",
                        field="payment_ref",
                    )
            _assign_payment_refs(ledger, prepared)

            accounts = _accounts_by_role(ledger)
            invoice_ids = _next_ids("ledger_invoice", len(prepared))
            transaction_ids = _next_ids("ledger_journaltransaction", len(prepared))
            default_text = ledger.default_reference_text
            result = [
                RegisteredInvoice(
                    id=invoice_id,
                    transaction_id=transaction_id,
                    invoice_no=p.source.invoice_no,
                    payment_ref=p.payment_ref,
                    amount=p.amount,
                    due_date=p.due_date,
                    reference_text=p.source.reference_text or default_text,
                    created_at=now,
                )
                for p, invoice_id, transaction_id in zip(prepared, invoice_ids, transaction_ids, strict=True)
            ]
            # The rows are built as COPY's text lines while COPY sends them, straight from the inputs (no
            # model instances); what every row of a table shares is formatted once.
            now_text = _copy_field(now)
            date_text = _copy_field(booking_date)
            who = f"{_copy_field(created_by_id)}\t{_copy_field(actor_label)}\t{now_text}\n"
            currency_text = _copy_field(currency)
            open_text = InvoiceStatus.OPEN.value
            _copy_lines(
                "ledger_invoice",
                INVOICE_COPY_COLUMNS,
                (
                    f"{r.id}\t{ledger_id}\t{p.source.customer.id}\t{_copy_field(r.invoice_no)}\t"
                    f"{_copy_field(p.source.external_id)}\t{_copy_field(r.payment_ref)}\t"
                    f"{p.source.invoice_date}\t{r.due_date}\t{currency_text}\t{r.amount}\t"
                    f"{_copy_field(r.reference_text)}\t"
                    f"{_copy_field(p.source.amount_excl_vat)}\t{_copy_field(p.source.vat_amount)}\t"
                    f"{_copy_field(p.source.with_distribution)}\t{_copy_field(p.source.distribution_type)}\t"
                    f"{_copy_field(p.source.print_blocks)}\t{open_text}\t{now_text}\t"
                    f"{_copy_field(p.source.payer.id if p.source.payer else None)}\n"
                    for p, r in zip(prepared, result, strict=True)
                ),
            )
            invoice_kind = TransactionKind.INVOICE.value
            _copy_lines(
                "ledger_journaltransaction",
                INVOICE_TRANSACTION_COPY_COLUMNS,
                (
                    f"{r.transaction_id}\t{ledger_id}\t{date_text}\t{invoice_kind}\t\t"
                    f"{_copy_field(f'Invoice {r.invoice_no}')}\t{r.id}\t{who}"
                    for r in result
                ),
            )
            capital = f"\t{accounts[AccountRole.RECEIVABLE_CAPITAL]}\t{Component.CAPITAL.value}\t"
            clearing = f"\t{accounts[AccountRole.INVOICE_CLEARING]}\t\t"
            currency_end = f"\t{currency_text}\n"

            def posting_lines():
                for p, r in zip(prepared, result, strict=True):
                    common = f"{r.transaction_id}\t{ledger_id}\t{r.id}\t{p.source.customer.id}"
                    yield f"{common}{capital}{r.amount}{currency_end}"
                    yield f"{common}{clearing}{-r.amount}{currency_end}"

            with read_models_written_here():
                _copy_lines("ledger_posting", INVOICE_POSTING_COPY_COLUMNS, posting_lines())
            registered_kind = InvoiceEventKind.REGISTERED.value
            with read_models_written_here():
                _copy_lines(
                    "ledger_invoiceevent",
                    INVOICE_REGISTERED_EVENT_COPY_COLUMNS,
                    (
                        f"{ledger_id}\t{r.id}\t{registered_kind}\t\t{open_text}\t{date_text}\t\t"
                        f"{r.transaction_id}\t{who}"
                        for r in result
                    ),
                )
            _read_models_write(
                ledger_id=ledger_id, booking_date=booking_date, registered=result,
                customer_ids=[p.source.customer.id for p in prepared], actor=actor_label,
                capital_account=accounts[AccountRole.RECEIVABLE_CAPITAL],
                clearing_account=accounts[AccountRole.INVOICE_CLEARING],
            )  # fmt: skip
    except IntegrityError as exc:
        # A concurrent registration took the same invoice_no or reference between our check and COPY.
        raise ValidationFailed(
            f"invoice registration conflicts with existing data: {exc}", code="registration_conflict"
        ) from exc
    return result


# What a registration books changes the read models simply (one new version per invoice, one summary
# row per due date, one row of the day's registrations), so it writes them itself, by COPY, and the posting triggers that would compute
# the same from its postings stand aside for that statement (bench_register_invoices.py: they cost it
# 16 %, this 3 %). verify_ledger checks the result against the journal like any other.
OPEN_VERSION_COPY_COLUMNS = [
    "ledger_id", "invoice_id", "customer_id", "due_date", "valid_from", "capital", "fees", "interest", "paid", "open",
]  # fmt: skip
JOURNAL_MONTH_COPY_COLUMNS = [
    "ledger_id", "month", "kind", "overdue_from", "receivable", "capital", "capital_postings", "funds_in",
    "funds_in_postings",
]  # fmt: skip


def _read_models_write(
    *, ledger_id: int, booking_date: date, registered: list["RegisteredInvoice"], customer_ids: list[int],
    actor: str, capital_account: int, clearing_account: int,
) -> None:
    date_text = _copy_field(booking_date)
    total = sum((r.amount for r in registered), Decimal(0))
    RegistrationDay.objects.create(
        ledger_id=ledger_id, booking_date=booking_date, actor=actor, invoices=len(registered), amount=total
    )
    # capital debited and the clearing account credited by each invoice (a credit note: the other way)
    debits = sum((r.amount for r in registered if r.amount > 0), Decimal(0))
    credits = debits - total
    first_day = booking_date.replace(day=1)
    kind = TransactionKind.INVOICE.value
    AccountDay.objects.bulk_create([
        AccountDay(ledger_id=ledger_id, booking_date=booking_date, account_id=capital_account, action=kind,
                   postings=len(registered), debit=debits, credit=credits),
        AccountDay(ledger_id=ledger_id, booking_date=booking_date, account_id=clearing_account, action=kind,
                   postings=len(registered), debit=credits, credit=debits),
    ])  # fmt: skip
    _copy_lines(
        "ledger_openversion",
        OPEN_VERSION_COPY_COLUMNS,
        (
            f"{ledger_id}\t{r.id}\t{customer_id}\t{r.due_date}\t{date_text}\t{r.amount}\t0\t0\t0\t{r.amount}\n"
            for r, customer_id in zip(registered, customer_ids, strict=True)
        ),
    )
    by_due: dict[date, list[Decimal]] = {}
    for r in registered:
        by_due.setdefault(r.due_date, []).append(r.amount)
    month = _copy_field(first_day)
    _copy_lines(
        "ledger_journalmonth",
        JOURNAL_MONTH_COPY_COLUMNS,
        (
            f"{ledger_id}\t{month}\t{kind}\t{due + timedelta(days=1)}\t{sum(amounts)}\t{sum(amounts)}\t"
            f"{len(amounts)}\t0\t0\n"
            for due, amounts in by_due.items()
        ),
    )


def invoices_register(
    *,
    ledger: Ledger,
    invoices: Sequence[InvoiceInput],
    actor: User | str | None,
    booking_date: date | None = None,
) -> list[Invoice]:
    """Register invoices as open claims, each with its payment reference and its journal transaction.

    All or nothing: a bad invoice raises a ValidationFailed naming it, and nothing is written.
    """
    registered = invoices_register_rows(
        ledger=ledger, invoices=invoices, actor=actor, booking_date=booking_date
    )
    return [
        Invoice(
            id=r.id,
            ledger=ledger,
            customer=item.customer,
            payer=item.payer,
            invoice_no=r.invoice_no,
            external_id=item.external_id,
            payment_ref=r.payment_ref,
            invoice_date=item.invoice_date,
            due_date=r.due_date,
            currency=ledger.currency,
            amount=r.amount,
            reference_text=r.reference_text,
            amount_excl_vat=item.amount_excl_vat,
            vat_amount=item.vat_amount,
            with_distribution=item.with_distribution,
            distribution_type=item.distribution_type,
            print_blocks=item.print_blocks,
            status=InvoiceStatus.OPEN,
            created_at=r.created_at,
        )
        for item, r in zip(invoices, registered, strict=True)
    ]


def invoice_register(
    *,
    ledger: Ledger,
    customer: Customer,
    invoice_no: str,
    invoice_date: date,
    amount: Decimal,
    due_date: date | None = None,
    payment_ref: str | None = None,
    currency: str | None = None,
    external_id: str = "",
    reference_text: str = "",
    actor: User | str | None = None,
    booking_date: date | None = None,
    payer: Customer | None = None,
) -> Invoice:
    item = InvoiceInput(
        customer=customer,
        payer=payer,
        invoice_no=invoice_no,
        invoice_date=invoice_date,
        amount=amount,
        due_date=due_date,
        payment_ref=payment_ref,
        currency=currency,
        external_id=external_id,
        reference_text=reference_text,
    )
    return invoices_register(ledger=ledger, invoices=[item], actor=actor, booking_date=booking_date)[0]
