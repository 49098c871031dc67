"""Autogiro (Sweden, Bankgirot): payment requests and new mandates out (ledger.payments.bankfiles.autogiro
writes the records)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from ledger.errors import ValidationFailed
from ledger.models import AutogiroMandateRequest, Customer, Ledger, MandateRequestStatus
from ledger.payments.bankfiles import autogiro
from ledger.payments.direct_debit.common import (
    _LOCK_CLAIMS,
    _Claim,
    _claim_file_invalid,
    _digits_only,
    _lock,
    _nets_id,
    _write_outbox,
    outbox_round,
)


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


# --- New mandates out (the invoice portal's sign-up), answered by Bankgirot's mandate notices -------------


def _personal_number(national_id: str) -> str:
    """YYYYMMDDNNNN, as TK04 wants the payer's personnummer."""
    from stdnum.se import personnummer

    try:
        born = personnummer.get_birth_date(national_id)
    except ValueError as exc:  # stdnum's errors are ValueErrors
        raise ValidationFailed(f"{national_id!r} is no Swedish personal number: {exc}", code="invalid_national_id",
                               field="national_id") from exc  # fmt: skip
    return f"{born.year:04d}{_digits_only(national_id)[-8:]}"


def autogiro_mandate_request(
    *, customer: Customer, account: str, national_id: str, source: str, booking_date: date
) -> AutogiroMandateRequest:
    """A new Autogiro mandate for the customer, to go to Bankgirot in the next mandate file. The consent
    becomes active when Bankgirot approves it (its mandate notice), not before. One open request per
    customer: asking again while one waits returns that one."""
    ledger = customer.ledger
    if ledger.country != "SE":
        raise ValidationFailed(f"Autogiro is Swedish; ledger {ledger.company_no} is in {ledger.country}",
                               code="direct_debit_not_offered")  # fmt: skip
    digits = _digits_only(account)
    # Clearing number and account; Swedbank's five-digit clearing numbers (8xxx-x) send four digits.
    clearing, number = digits[:4], digits[5:] if digits[:1] == "8" and len(digits) >= 15 else digits[4:]
    if not 9 <= len(digits) <= 16 or not 1 <= len(number) <= 12:
        raise ValidationFailed(
            "clearing and account number, 9-16 digits", code="account_invalid", field="account"
        )
    personal = _personal_number(national_id)
    payer = _digits_only(customer.national_id) or personal
    with transaction.atomic():
        open_request = (
            AutogiroMandateRequest.objects.select_for_update()
            .filter(customer=customer, status__in=[MandateRequestStatus.PENDING, MandateRequestStatus.SENT])
            .first()
        )
        if open_request is not None:
            return open_request
        return AutogiroMandateRequest.objects.create(
            ledger=ledger, customer=customer, payer_number=payer[-16:], clearing=clearing, account=number,
            national_id=personal, source=source[:100], requested_on=booking_date,
        )  # fmt: skip


def autogiro_mandates_send(*, ledger: Ledger, as_of: date) -> dict:
    """The ledger's waiting mandate requests in one mandate file in its outbox (TK01 and a TK04 each),
    written inside the transaction that marks them sent and published after it (the file and the
    records go together or not at all). Nothing waiting: no file."""
    summary = {"mandate_file": None, "mandates": 0}
    with outbox_round(ledger) as written:
        with transaction.atomic():
            _lock(ledger, _LOCK_CLAIMS)
            waiting = list(
                AutogiroMandateRequest.objects.select_for_update()
                .filter(ledger=ledger, status=MandateRequestStatus.PENDING)
                .order_by("id")
            )
            if not waiting:
                return summary
            sequence = (
                AutogiroMandateRequest.objects.filter(ledger=ledger, sent_on=as_of)
                .values("file_name")
                .distinct()
                .count()
                + 1
            )
            file_name = f"AGMEDGIV_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
            mandates = [autogiro.MandateRequest(payer_number=r.payer_number, clearing=r.clearing,
                                                account=r.account, national_id=r.national_id) for r in waiting]  # fmt: skip
            try:
                content = autogiro.mandate_requests_file(
                    write_date=as_of, customer_number=_nets_id("BANKGIROT_CUSTOMER_NUMBER", "0" * 6, 6),
                    bankgiro=_bankgiro(ledger), mandates=mandates,
                )  # fmt: skip
                back = autogiro.parse_mandate_requests(content)
            except ValueError as exc:
                raise _claim_file_invalid(exc) from exc
            if [(m.payer_number.lstrip("0"), m.national_id) for m in mandates] != [
                (m.payer_number, m.national_id) for m in back
            ]:
                raise _claim_file_invalid(ValueError("the mandates read back differ from the requests"))
            AutogiroMandateRequest.objects.filter(pk__in=[r.pk for r in waiting]).update(
                status=MandateRequestStatus.SENT, file_name=file_name, sent_on=as_of
            )
            written.append(_write_outbox(ledger, file_name, content))
    return {"mandate_file": file_name, "mandates": len(waiting)}


def autogiro_mandate_answers(*, customer_id: int, approved: bool, text: str, booking_date: date) -> int:
    """Bankgirot's answer to the customer's open mandate request (from its mandate notice): approved or
    refused, with its words. Called inside the notice file's import; returns the requests answered."""
    return AutogiroMandateRequest.objects.filter(
        customer_id=customer_id, status__in=[MandateRequestStatus.PENDING, MandateRequestStatus.SENT]
    ).update(
        status=MandateRequestStatus.APPROVED if approved else MandateRequestStatus.REFUSED,
        answered_on=booking_date, answer=text[:200],
    )  # fmt: skip
