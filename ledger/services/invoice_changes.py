"""What happens to a registered invoice: closing when settled, credit, fees credit, write-off, costs
carried to another invoice; each a state change with its guards and an invoice event."""

from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.errors import InvalidTransition, NotFound, ValidationFailed
from ledger.models import (
    RECEIVABLE_ROLE_BY_COMPONENT,
    AccountRole,
    Cause,
    Component,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
    JournalTransaction,
    TransactionKind,
    User,
)
from ledger.money import ZERO, to_money
from ledger.selectors import invoice_balance
from ledger.services.common import _actor_fields
from ledger.services.journal import Line, journal_book

# --- Invoice state changes -----------------------------------------------------------------------

# The status changes a service may make; anything else is an InvalidTransition.
ALLOWED_TRANSITIONS = {
    (InvoiceStatus.OPEN, InvoiceStatus.RESPITE),
    (InvoiceStatus.RESPITE, InvoiceStatus.RESPITE),
    (InvoiceStatus.RESPITE, InvoiceStatus.OPEN),
    (InvoiceStatus.OPEN, InvoiceStatus.DISPUTED),
    (InvoiceStatus.RESPITE, InvoiceStatus.DISPUTED),
    (InvoiceStatus.DISPUTED, InvoiceStatus.OPEN),
    (InvoiceStatus.OPEN, InvoiceStatus.CLOSED),
    (InvoiceStatus.RESPITE, InvoiceStatus.CLOSED),
    (InvoiceStatus.DISPUTED, InvoiceStatus.CLOSED),
}


def _lock_invoice(invoice: Invoice) -> Invoice:
    try:
        return Invoice.objects.select_for_update().select_related("ledger", "customer").get(pk=invoice.pk)
    except Invoice.DoesNotExist as exc:
        raise NotFound(f"invoice {invoice.invoice_no} not found") from exc


def _guard_not_closed(invoice: Invoice, action: str) -> None:
    if invoice.status == InvoiceStatus.CLOSED:
        raise InvalidTransition(
            f"invoice {invoice.invoice_no} is closed: cannot {action}", code="invoice_closed"
        )


def _invoice_transition(
    invoice: Invoice,
    *,
    to_status: InvoiceStatus,
    kind: InvoiceEventKind,
    booking_date: date,
    actor: User | str | None,
    reason: str = "",
    respite_until: date | None = None,
    txn: JournalTransaction | None = None,
) -> InvoiceEvent:
    from_status = InvoiceStatus(invoice.status)
    if from_status != to_status and (from_status, to_status) not in ALLOWED_TRANSITIONS:
        raise InvalidTransition(
            f"invoice {invoice.invoice_no}: cannot go from {from_status.value} to {to_status.value}"
        )
    invoice.status = to_status
    invoice.respite_until = respite_until if to_status == InvoiceStatus.RESPITE else None
    invoice.closed_on = booking_date if to_status == InvoiceStatus.CLOSED else None
    invoice.save(update_fields=["status", "respite_until", "closed_on"])
    return _invoice_event(
        invoice,
        kind=kind,
        from_status=from_status,
        booking_date=booking_date,
        actor=actor,
        reason=reason,
        txn=txn,
    )


def _invoice_event(invoice, *, kind, from_status, booking_date, actor, reason="", txn=None) -> InvoiceEvent:
    created_by_id, actor_label = _actor_fields(actor)
    return InvoiceEvent.objects.create(
        ledger_id=invoice.ledger_id,
        invoice=invoice,
        kind=kind,
        from_status=from_status,
        to_status=invoice.status,
        booking_date=booking_date,
        reason=reason[:500],
        transaction=txn,
        created_by_id=created_by_id,
        actor=actor_label,
    )


def invoice_close_if_settled(
    *, invoice: Invoice, booking_date: date, actor: User | str | None, reason: str, txn=None
) -> bool:
    """Close the invoice when nothing is open on it any more. Call inside the booking's transaction."""
    if invoice.status == InvoiceStatus.CLOSED or invoice_balance(invoice).open_amount != 0:
        return False
    _invoice_transition(
        invoice,
        to_status=InvoiceStatus.CLOSED,
        kind=InvoiceEventKind.CLOSED,
        booking_date=booking_date,
        actor=actor,
        reason=reason,
        txn=txn,
    )
    return True


def _positive_amount(value, field_name: str) -> Decimal:
    try:
        amount = to_money(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), field=field_name) from exc
    if amount <= 0:
        raise ValidationFailed(
            f"{field_name} must be positive, got {amount}", code="amount_not_positive", field=field_name
        )
    return amount


# Where the other leg goes when a receivable component is reduced without payment.
_REDUCTION_ROLE = {
    Component.FEE: AccountRole.FEE_INCOME,
    Component.INTEREST: AccountRole.INTEREST_INCOME,
}


def _reduction_lines(invoice: Invoice, parts: dict[str, Decimal], capital_role: AccountRole) -> list[Line]:
    lines = []
    for component, amount in parts.items():
        if amount == 0:
            continue
        lines.append(
            Line(
                role=RECEIVABLE_ROLE_BY_COMPONENT[component],
                amount=-amount,
                component=component,
                invoice=invoice,
            )
        )
        other = capital_role if component == Component.CAPITAL else _REDUCTION_ROLE[component]
        lines.append(Line(role=other, amount=amount, invoice=invoice))
    return lines


def _reduction_book(
    invoice: Invoice,
    parts: dict[str, Decimal],
    *,
    kind,
    role,
    booking_date,
    actor,
    cause,
    description,
    event,
    event_reason,
    closed_reason,
) -> JournalTransaction:
    """Book what a credit or a write-off takes off the invoice's components, record its event and close the
    invoice when nothing is left open: the one path of every reduction."""
    txn = journal_book(
        ledger=invoice.ledger,
        kind=kind,
        booking_date=booking_date,
        actor=actor,
        invoice=invoice,
        cause=cause,
        description=description,
        lines=_reduction_lines(invoice, parts, role),
    )
    _invoice_event(
        invoice,
        kind=event,
        from_status=invoice.status,
        booking_date=booking_date,
        actor=actor,
        reason=event_reason,
        txn=txn,
    )
    invoice_close_if_settled(
        invoice=invoice, booking_date=booking_date, actor=actor, reason=closed_reason, txn=txn
    )
    return txn


def invoice_credit(
    *,
    invoice: Invoice,
    actor: User | str | None,
    amount: Decimal | None = None,
    reason: str = "",
    cause: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Credit an invoice: part of its capital, or (amount=None) the whole claim with its fees and interest."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "credit it")
        booking_date = booking_date or invoice.ledger.today()
        balance = invoice_balance(invoice)
        if amount is None:
            parts = {
                Component.CAPITAL: balance.capital,
                Component.FEE: balance.fees,
                Component.INTEREST: balance.interest,
            }
        else:
            amount = _positive_amount(amount, "amount")
            if amount > balance.capital:
                raise ValidationFailed(
                    f"invoice {invoice.invoice_no}: credit {amount} exceeds the open capital {balance.capital}",
                    code="credit_exceeds_open",
                    field="amount",
                )
            parts = {Component.CAPITAL: amount}
        if sum(parts.values(), ZERO) <= 0:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: nothing open to credit", code="nothing_open"
            )
        txn = _reduction_book(
            invoice, parts, kind=TransactionKind.CREDIT, role=AccountRole.CREDIT, booking_date=booking_date,
            actor=actor, cause=cause, description=reason or f"Credit of invoice {invoice.invoice_no}",
            event=InvoiceEventKind.CREDITED, event_reason=reason or f"credited {sum(parts.values())}",
            closed_reason="credited",
        )  # fmt: skip
    return txn


def invoice_fees_credit(
    *,
    invoice: Invoice,
    amount: Decimal,
    actor: User | str | None,
    reason: str,
    cause: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Take fees off a claim (e.g. the collection fees of a claim recalled from collection): a CREDIT
    transaction against fee income, at most the fees open."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "credit its fees")
        amount = _positive_amount(amount, "amount")
        balance = invoice_balance(invoice)
        if amount > balance.fees:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: fee credit {amount} exceeds the open fees {balance.fees}",
                code="credit_exceeds_open",
                field="amount",
            )
        booking_date = booking_date or invoice.ledger.today()
        txn = _reduction_book(
            invoice, {Component.FEE: amount}, kind=TransactionKind.CREDIT, role=AccountRole.CREDIT,
            booking_date=booking_date, actor=actor, cause=cause, description=reason,
            event=InvoiceEventKind.CREDITED, event_reason=f"fees {amount} credited: {reason}", closed_reason="credited",
        )  # fmt: skip
    return txn


# A write-off gives up the costs before the capital.
WRITE_OFF_ORDER = (Component.INTEREST, Component.FEE, Component.CAPITAL)


def invoice_write_off(
    *,
    invoice: Invoice,
    cause: str,
    actor: User | str | None,
    amount: Decimal | None = None,
    reason: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Write off (part of) a claim as a loss: interest first, then fees, then capital."""
    if cause not in Cause.values:
        raise ValidationFailed(
            f"unknown write-off cause {cause!r}; use one of {', '.join(Cause.values)}",
            code="invalid_cause",
            field="cause",
        )
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "write it off")
        booking_date = booking_date or invoice.ledger.today()
        balance = invoice_balance(invoice)
        open_by_component = {
            Component.CAPITAL: balance.capital,
            Component.FEE: balance.fees,
            Component.INTEREST: balance.interest,
        }
        remaining = balance.open_amount if amount is None else _positive_amount(amount, "amount")
        if remaining > balance.open_amount:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: write-off {remaining} exceeds the open amount {balance.open_amount}",
                code="write_off_exceeds_open",
                field="amount",
            )
        if remaining <= 0:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: nothing open to write off", code="nothing_open"
            )
        parts = {}
        for component in WRITE_OFF_ORDER:
            take = min(remaining, max(open_by_component[component], ZERO))
            parts[component] = take
            remaining -= take
        txn = _reduction_book(
            invoice, parts, kind=TransactionKind.WRITE_OFF, role=AccountRole.LOSS_ON_RECEIVABLES,
            booking_date=booking_date, actor=actor, cause=cause,
            description=reason or f"Write-off of invoice {invoice.invoice_no}", event=InvoiceEventKind.WRITTEN_OFF,
            event_reason=f"{cause}: {reason}" if reason else cause, closed_reason="written off",
        )  # fmt: skip
    return txn


def invoice_costs_carry(
    *, invoice: Invoice, to_invoice: Invoice, actor: User | str | None, booking_date: date | None = None
) -> JournalTransaction:
    """Carry the fees and interest left on a paid invoice ("unpaid costs in arrear") to the same customer's
    next open invoice, and close the first: the customer pays them with the next one."""
    with transaction.atomic():
        invoice, to_invoice = _lock_invoice(invoice), _lock_invoice(to_invoice)
        _guard_not_closed(invoice, "carry its costs")
        _guard_not_closed(to_invoice, "take over costs")
        if (to_invoice.ledger_id, to_invoice.customer_id) != (invoice.ledger_id, invoice.customer_id) or (
            to_invoice.pk == invoice.pk
        ):
            raise ValidationFailed(
                f"costs of invoice {invoice.invoice_no} go only to another invoice of the same customer",
                code="costs_other_customer",
                field="to_invoice",
            )
        balance = invoice_balance(invoice)
        if balance.capital != 0 or balance.fees + balance.interest <= 0:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} has capital {balance.capital} and costs "
                f"{balance.fees + balance.interest} open: only costs left after the capital is paid are carried",
                code="no_costs_in_arrear",
            )
        booking_date = booking_date or invoice.ledger.today()
        lines = []
        for component, amount in ((Component.FEE, balance.fees), (Component.INTEREST, balance.interest)):
            if amount:
                role = RECEIVABLE_ROLE_BY_COMPONENT[component]
                lines += [
                    Line(role=role, amount=-amount, component=component, invoice=invoice),
                    Line(role=role, amount=amount, component=component, invoice=to_invoice),
                ]
        txn = journal_book(
            ledger=invoice.ledger,
            kind=TransactionKind.COST_TRANSFER,
            booking_date=booking_date,
            lines=lines,
            actor=actor,
            invoice=invoice,
            description=f"costs of {invoice.invoice_no} carried to {to_invoice.invoice_no}",
        )
        carried = balance.fees + balance.interest
        _invoice_event(to_invoice, kind=InvoiceEventKind.COSTS_CARRIED, from_status=to_invoice.status,
                       booking_date=booking_date, actor=actor, txn=txn,
                       reason=f"{carried} of fees and interest carried from invoice {invoice.invoice_no}")  # fmt: skip
        _invoice_event(invoice, kind=InvoiceEventKind.COSTS_CARRIED, from_status=invoice.status,
                       booking_date=booking_date, actor=actor, txn=txn,
                       reason=f"{carried} of fees and interest carried to invoice {to_invoice.invoice_no}")  # fmt: skip
        invoice_close_if_settled(
            invoice=invoice, booking_date=booking_date, actor=actor, txn=txn,
            reason=f"costs carried to invoice {to_invoice.invoice_no}",
        )  # fmt: skip
    return txn
