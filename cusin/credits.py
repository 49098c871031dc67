"""Credit instructions in a CUSIN file: each credits an invoice of the ledger, or fails alone."""

from cusin.checks import _BatchResult, _error
from ledger.errors import InvalidTransition, LedgerError
from ledger.models import Invoice
from ledger.services.invoice_changes import invoice_credit

from .records import CreditRecord, CusinRecord


def _apply_credits(record: CusinRecord, *, ledger, actor, booking_date, result: _BatchResult) -> None:
    for credit in record.credits:
        problem = _credit(credit, record=record, ledger=ledger, actor=actor, booking_date=booking_date)
        if problem:
            result.failed_credits += 1
            result.errors.append(
                _error(
                    problem[0],
                    problem[1],
                    customer_no=record.customer_no,
                    invoice_no=credit.credited_invoice_no,
                    line=credit.line,
                )
            )


def _credit(credit: CreditRecord, *, record, ledger, actor, booking_date):
    invoice = Invoice.objects.filter(
        ledger=ledger, invoice_no=credit.credited_invoice_no, customer__customer_no=record.customer_no
    ).first()
    if invoice is None:
        return "UnknownInvoice", (
            f"CreditedInvoiceNo {credit.credited_invoice_no} is not an invoice of customer "
            f"{record.customer_no} in ledger {ledger.company_no}"
        )
    if credit.currency and credit.currency != ledger.currency:
        return "CurrencyMismatch", f"credit currency {credit.currency} is not the ledger's {ledger.currency}"
    reason = (
        " ".join(
            filter(
                None, [f"credit note {credit.credit_note_no}" if credit.credit_note_no else "", credit.reason]
            )
        )
        or "credited by CUSIN"
    )
    try:
        invoice_credit(
            invoice=invoice,
            amount=credit.amount,
            reason=reason,
            cause=credit.cause,
            actor=actor,
            booking_date=booking_date,
        )
    except InvalidTransition as exc:
        return "InvoiceClosed", exc.message
    except LedgerError as exc:
        code = "CreditExceedsOpen" if exc.code in ("credit_exceeds_open", "nothing_open") else "InvalidCredit"
        return code, exc.message
    return None
