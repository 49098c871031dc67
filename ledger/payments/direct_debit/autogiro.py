"""Autogiro (Sweden, Bankgirot): payment requests out (ledger.payments.bankfiles.autogiro writes the records)."""

from __future__ import annotations

from datetime import date

from ledger.errors import ValidationFailed
from ledger.models import (
    Ledger,
)
from ledger.payments.bankfiles import autogiro
from ledger.payments.direct_debit.common import _Claim, _claim_file_invalid, _nets_id


def _bankgiro(ledger: Ledger) -> str:
    if not ledger.client_funds_account:
        raise ValidationFailed(
            f"ledger {ledger.company_no} has no client-funds account to claim into",
            code="bank_account_missing",
        )
    try:
        return autogiro.bankgiro_digits(ledger.client_funds_account)
    except ValueError as exc:
        raise ValidationFailed(
            f"ledger {ledger.company_no}: client-funds account {ledger.client_funds_account!r} is no "
            f"bankgiro number, which Autogiro needs ({exc})",
            code="invalid_bank_account",
        ) from exc


def autogiro_requests_file(
    *, ledger: Ledger, claims: list[_Claim], as_of: date, cancel: bool = False
) -> bytes:
    """The Autogiro payment-request file (TK01, a TK82 per claim) for the claims, or with cancel=True
    their cancellations (a TK23 per claim, repeating its payer number, date, amount and reference).
    Read back before it is handed out."""
    items = [
        autogiro.PaymentRequest(payer_number=c.payer, amount=c.amount, debit_date=c.due_date, reference=c.kid)
        for c in claims
    ]
    try:
        content = autogiro.payment_requests_file(
            write_date=as_of,
            customer_number=_nets_id("BANKGIROT_CUSTOMER_NUMBER", "0" * 6, 6),
            bankgiro=_bankgiro(ledger),
            requests=() if cancel else items,
            cancellations=items if cancel else (),
        )
        back = autogiro.parse_payment_requests(content)
    except ValueError as exc:  # BankFileError is one too
        raise _claim_file_invalid(exc) from exc
    got = back.cancellations if cancel else back.requests
    want = [(i.payer_number.lstrip("0"), i.amount, i.debit_date, i.reference) for i in items]
    if [(g.payer_number, g.amount, g.debit_date, g.reference) for g in got] != want or (
        back.requests if cancel else back.cancellations
    ):
        raise _claim_file_invalid(ValueError("the records read back differ from the claims"))
    return content
