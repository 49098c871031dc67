"""Agreement and result files from Bankgirot (Autogiro) and Nets (Betalingsservice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.errors import FileRejected, ValidationFailed
from ledger.models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    DebitAgreementFile,
    DirectDebitAttempt,
    DirectDebitBankOutcome,
    DirectDebitKind,
    DirectDebitStatus,
    InvoiceEventKind,
    Ledger,
    PaymentFile,
    PaymentFileStatus,
)
from ledger.payments import bankfiles
from ledger.payments.bank_import import _book_rounds, _empty_summary
from ledger.payments.bankfiles import autogiro, betalingsservice
from ledger.payments.bankfiles.model import BankFileError
from ledger.payments.direct_debit.autogiro import autogiro_mandate_answers
from ledger.payments.direct_debit.common import (
    _BANK_FAILED_SQL,
    _LOCK_AGREEMENTS,
    _LOCK_CLAIMS,
    CONSENT_BY_KIND,
    SCHEMES,
    AgreementFileRejected,
    _agreement_file_record,
    _digits_only,
    _empty_agreement_summary,
    _kind_for,
    _lock,
)
from ledger.selectors import ledger_for_account
from ledger.services.common import _actor_fields

# --- Agreement and result files from Bankgirot (Autogiro) and Nets (Betalingsservice) ----------------------


@dataclass(frozen=True)
class _ConsentNotice:
    line: int
    payer: str  # the number the bank names the payer by
    national_id: str  # Autogiro: the payer's national id, when given
    active: bool | None  # None: a notice that changes nothing
    bank_ref: str
    text: str


@dataclass(frozen=True)
class _ResultNotice:
    line: int
    reference: str
    amount: Decimal
    debit_date: date
    outcome: str  # DirectDebitBankOutcome, or "" for a notice that changes nothing
    text: str


def _scheme_file(data: bytes) -> tuple[DirectDebitKind, str] | None:
    """(kind, what) of an Autogiro or Betalingsservice file from the bank, None for anything else."""
    if betalingsservice.is_betalingsservice(data):
        return DirectDebitKind.BETALINGSSERVICE_DK, "delivery"
    what = autogiro.kind_of_file(data)
    if what in ("mandates", "payments"):
        return DirectDebitKind.AUTOGIRO_SE, what
    return None


def _parse_scheme_file(kind, what, data) -> tuple[list[str], list[_ConsentNotice], list[_ResultNotice]]:
    """(accounts named, consent notices, result notices) of a bank file, or raise FileRejected."""
    try:
        if kind == DirectDebitKind.BETALINGSSERVICE_DK:
            delivery = betalingsservice.parse_delivery(data)
            consents = [
                _ConsentNotice(a.line, a.customer_no, "", a.active, a.agreement_no, f"{a.code} {a.text}")
                for a in delivery.agreements
            ]
            outcome = {
                betalingsservice.PAYMENT_COMPLETED: DirectDebitBankOutcome.APPROVED,
                betalingsservice.PAYMENT_REJECTED: DirectDebitBankOutcome.FAILED,
                betalingsservice.PAYMENT_CANCELLED: DirectDebitBankOutcome.FAILED,
            }
            results = [
                _ResultNotice(
                    p.line, p.reference, p.amount, p.debit_date, outcome.get(p.code, ""), f"{p.code} {p.text}"
                )
                for p in delivery.payments
            ]
            if delivery.payments and not results[0].outcome:
                raise FileRejected(
                    "a collection delivery (transaction code 0280) goes to Nets, it is not read back in",
                    code="not_a_result_file",
                )
            return [], consents, results
        if what == "mandates":
            mandates = autogiro.parse_mandates(data)
            consents = [
                _ConsentNotice(
                    m.line,
                    m.payer_number,
                    m.national_id,
                    m.active,
                    m.payer_number,
                    f"{m.comment_code} {m.text}",
                )
                for m in mandates.mandates
            ]
            return [mandates.bankgiro], consents, []
        payments = autogiro.parse_payment_results(data)
        outcome = {
            autogiro.RESULT_APPROVED: DirectDebitBankOutcome.APPROVED,
            autogiro.RESULT_RENEWED: DirectDebitBankOutcome.RENEWED,
        }
        results = [
            _ResultNotice(
                r.line,
                r.reference,
                r.amount,
                r.debit_date,
                outcome.get(r.result_code, DirectDebitBankOutcome.FAILED),
                f"{r.result_code} {r.text}",
            )
            for r in payments.results
        ]
        return [payments.bankgiro], [], results
    except BankFileError as exc:
        raise AgreementFileRejected(exc.message, code=exc.code, line=exc.line) from exc


def _scheme_ledger(kind: DirectDebitKind, accounts: list[str], company_no: str | None) -> Ledger:
    if not accounts and not company_no:
        raise AgreementFileRejected(
            "a Betalingsservice delivery names no account of ours: give the ledger (--ledger)",
            code="ledger_required",
        )
    if accounts:
        ledger = ledger_for_account(accounts=accounts, company_no=company_no)
    else:
        ledger = Ledger.objects.filter(company_no=company_no).first()
        if ledger is None:
            raise FileRejected(f"no ledger has CompanyNo {company_no}", code="ledger_not_found")
    if _kind_for(ledger) != kind:
        raise AgreementFileRejected(
            f"ledger {ledger.company_no} is in {ledger.country}: {kind.label} is for "
            f"{SCHEMES[kind].currency} ledgers of its own country",
            code="wrong_country",
        )
    return ledger


def _normal_id(value: str) -> str:
    """A Swedish personal or organisation number as its last 10 digits (the century is optional)."""
    digits = _digits_only(value)
    return digits[-10:] if len(digits) == 12 else digits


def _customers_for_notices(ledger, kind, notices: list[_ConsentNotice]) -> dict[int, list[int]]:
    """Customer ids per notice line: Autogiro by the consent's payer number, else the national id;
    Betalingsservice by customer number (leading zeros optional)."""
    consent_kind = CONSENT_BY_KIND[kind]
    by_bank_ref: dict[str, set[int]] = {}
    for customer_id, bank_ref in CustomerConsent.objects.filter(
        ledger=ledger, kind=consent_kind, bank_ref__in=list({n.bank_ref for n in notices if n.bank_ref})
    ).values_list("customer_id", "bank_ref"):
        by_bank_ref.setdefault(bank_ref, set()).add(customer_id)
    found: dict[int, list[int]] = {}
    if kind == DirectDebitKind.AUTOGIRO_SE:
        wanted = {_normal_id(v) for n in notices for v in (n.payer, n.national_id) if v}
        by_id: dict[str, set[int]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT id, regexp_replace(national_id, '[^0-9]', '', 'g') FROM ledger_customer
                    WHERE ledger_id = %s AND national_id <> ''
                      AND right(regexp_replace(national_id, '[^0-9]', '', 'g'), 10) = ANY(%s)""",
                [ledger.id, [w[-10:] for w in wanted]],
            )
            for customer_id, digits in cursor.fetchall():
                by_id.setdefault(_normal_id(digits), set()).add(customer_id)
        for n in notices:
            ids = (
                by_bank_ref.get(n.bank_ref)
                or by_id.get(_normal_id(n.payer))
                or by_id.get(_normal_id(n.national_id))
            )
            found[n.line] = sorted(ids or ())
        return found
    numbers = {n.payer.zfill(width) for n in notices for width in range(len(n.payer), 16)}
    by_no: dict[str, int] = {}
    for customer_id, customer_no in Customer.objects.filter(
        ledger=ledger, customer_no__in=numbers
    ).values_list("id", "customer_no"):
        by_no[customer_no] = customer_id
    for n in notices:
        ids = {by_no[no] for no in (n.payer.zfill(w) for w in range(len(n.payer), 16)) if no in by_no}
        found[n.line] = sorted(ids)
    return found


def _apply_consent_notices(ledger, kind, notices, summary, file_name, booking_date, actor) -> None:
    consent_kind = CONSENT_BY_KIND[kind]
    customers = _customers_for_notices(ledger, kind, notices)
    consents = {
        c.customer_id: c
        for c in CustomerConsent.objects.select_for_update().filter(
            ledger=ledger, kind=consent_kind, customer_id__in={i for ids in customers.values() for i in ids}
        )
    }
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    source = f"{kind.label} {file_name}"[:100]
    events: list[CustomerEvent] = []
    for n in notices:
        ids = customers[n.line]
        error = {"line": n.line, "payer": n.payer}
        if not ids:
            summary["errors"].append(
                {
                    **error,
                    "code": "unknown_payer",
                    "message": f"payer {n.payer} is no customer of ledger {ledger.company_no}",
                }
            )
            continue
        if len(ids) > 1:
            summary["errors"].append(
                {**error, "code": "ambiguous_payer", "message": f"payer {n.payer} names {len(ids)} customers"}
            )
            continue
        if n.active is None:
            summary["unchanged"] += 1
            continue
        customer_id = ids[0]
        consent = consents.get(customer_id)
        values = {"consent": consent_kind.value, "bank_ref": n.bank_ref, "bank": n.text}
        # the answer to a mandate the customer asked for (the portal's sign-up), if one waits
        answered = kind == DirectDebitKind.AUTOGIRO_SE and autogiro_mandate_answers(
            customer_id=customer_id, approved=bool(n.active), text=n.text, booking_date=booking_date
        )
        if n.active:
            if consent is not None and consent.active and consent.bank_ref == n.bank_ref:
                summary["unchanged"] += 1
                continue
            was_active = consent is not None and consent.active
            if consent is None:
                consent = CustomerConsent(ledger=ledger, customer_id=customer_id, kind=consent_kind)
                consents[customer_id] = consent
            old = {"consent": consent_kind.value, "bank_ref": consent.bank_ref} if was_active else {}
            consent.active, consent.bank_ref, consent.changed_on, consent.source = (
                True,
                n.bank_ref,
                booking_date,
                source,
            )
            consent.save()
            kind_of_event = (
                CustomerEventKind.CONSENT_CHANGED if was_active else CustomerEventKind.CONSENT_ACTIVATED
            )
            summary["changed" if was_active else "activated"] += 1
        elif consent is None or not consent.active:
            if not answered:
                summary["unchanged"] += 1
                continue
            # a new mandate refused: no consent to cancel, but the Customer Journal says so
            old, values = {}, {**values, "mandate": "refused"}
            kind_of_event = CustomerEventKind.CONSENT_CANCELLED
            summary["cancelled"] += 1
        else:
            old = {"consent": consent_kind.value, "bank_ref": consent.bank_ref}
            consent.active, consent.changed_on, consent.source = False, booking_date, source
            consent.save()
            kind_of_event = CustomerEventKind.CONSENT_CANCELLED
            summary["cancelled"] += 1
        events.append(
            CustomerEvent(
                ledger=ledger,
                customer_id=customer_id,
                kind=kind_of_event,
                booking_date=booking_date,
                old_value=old,
                new_value=values,
                reason=f"{file_name}: {n.text}"[:500],
                created_by_id=created_by_id,
                actor=actor_label,
                created_at=now,
            )
        )
    CustomerEvent.objects.bulk_create(events)


def _apply_result_notices(ledger, kind, results, summary, source, booking_date, actor) -> None:
    """Failed debits fail their attempt now (with the bank's reason, and the retry rule); approved ones
    are booked as payments (`_book_approved_debits`); renewed ones are noted. A result for no sent
    attempt is listed as an error."""
    created_by_id, actor_label = _actor_fields(actor)
    by_reference: dict[str, list[DirectDebitAttempt]] = {}
    for a in (
        DirectDebitAttempt.objects.select_for_update(of=("self",))
        .select_related("invoice")
        .filter(ledger=ledger, kind=kind, invoice__payment_ref__in=[r.reference for r in results])
        .order_by("attempt_no")
    ):
        by_reference.setdefault(a.invoice.payment_ref, []).append(a)

    def attempt_for(r: _ResultNotice) -> DirectDebitAttempt | None:
        """The attempt claimed for this debit date, else the one still out (the bank may report a
        renewed debit under its new date), else the last one (a result read again)."""
        candidates = by_reference.get(r.reference, [])
        same_day = [a for a in candidates if a.due_date == r.debit_date]
        out = [a for a in candidates if a.status == DirectDebitStatus.SENT]
        return (same_day or out or candidates or [None])[-1]

    bank = "Bankgirot" if kind == DirectDebitKind.AUTOGIRO_SE else "Nets"
    failed_ids, failed_reasons, approved = [], [], []
    for r in results:
        attempt = attempt_for(r)
        if attempt is None or attempt.amount != r.amount:
            summary["errors"].append(
                {
                    "line": r.line,
                    "code": "unknown_debit",
                    "message": f"no claim of {r.amount} with reference {r.reference} for {r.debit_date} was sent",
                }
            )
            continue
        reason = f"{bank}: {r.text}"[:200]
        if attempt.status != DirectDebitStatus.SENT or attempt.bank_result == reason:
            summary["unchanged"] += 1  # settled already, or this result was read before
            continue
        if r.outcome == DirectDebitBankOutcome.FAILED:
            failed_ids.append(attempt.id)
            failed_reasons.append(reason)
            continue
        if r.outcome == DirectDebitBankOutcome.APPROVED:
            approved.append((attempt, r, reason))
            continue
        attempt.bank_outcome, attempt.bank_result = r.outcome, reason
        attempt.save(update_fields=["bank_outcome", "bank_result"])
        summary["renewed"] += 1
    if approved:
        _book_approved_debits(ledger, kind, approved, summary, source, booking_date, actor)
    if not failed_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _BANK_FAILED_SQL,
            {
                "ledger": ledger.id,
                "as_of": booking_date,
                "now": timezone.now(),
                "sent": DirectDebitStatus.SENT.value,
                "failed": DirectDebitStatus.FAILED.value,
                "bank_failed": DirectDebitBankOutcome.FAILED.value,
                "ids": failed_ids,
                "reasons": failed_reasons,
                "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
                "failed_event": InvoiceEventKind.DIRECT_DEBIT_FAILED.value,
                "exhausted_event": InvoiceEventKind.DIRECT_DEBIT_EXHAUSTED.value,
                "created_by": created_by_id,
                "actor": actor_label,
            },
        )
        rows = cursor.fetchall()
    summary["failed"] += len(rows)
    summary["exhausted"] += sum(1 for _, attempt_no, _, _ in rows if attempt_no >= DIRECT_DEBIT_MAX_ATTEMPTS)


_BOOKED_SQL = """
UPDATE ledger_directdebitattempt a
   SET status = %(paid)s, settled_on = %(as_of)s, settled_at = %(now)s, bank_outcome = %(approved)s,
       bank_result = v.result, payment_id = p.id,
       reason = format('Approved by the bank: booked as payment %%s', p.bank_archive_ref)
  FROM unnest(%(ids)s::bigint[], %(results)s::text[], %(refs)s::text[]) AS v(id, result, archive_ref)
  JOIN ledger_payment p ON p.ledger_id = %(ledger)s AND p.bank_archive_ref = v.archive_ref
 WHERE a.id = v.id AND a.status = %(sent)s
"""


_PAYMENT_FORMAT = {DirectDebitKind.AUTOGIRO_SE: "autogiro", DirectDebitKind.BETALINGSSERVICE_DK: "betalingsservice"}


def _debit_archive_ref(attempt: DirectDebitAttempt) -> str:
    """The booked debit's bank archive reference: one per attempt, so a result read again books nothing."""
    return f"DD-{attempt.pk}"


def _book_approved_debits(ledger, kind, approved, summary, source, booking_date, actor) -> None:
    """Book the debits the bank reports approved as payments on the client-funds account, on the booking
    date, valued on the debit date, through the payment import's own matching and booking (a debit on an
    invoice settled otherwise meanwhile becomes the customer's credit balance, as any payment would). The
    result file is kept as a payment file, so the payments have their file in 360 and the API. The bank's
    own line for the money, later, reconciles the debit instead of being booked again
    (ledger.payments.debit_reconciliation).

    Runs in the result file's transaction, holding the ledger's row as a payment import does."""
    Ledger.objects.select_for_update(no_key=True).filter(pk=ledger.pk).first()
    created_by_id, actor_label = _actor_fields(actor)
    file_row = PaymentFile.objects.create(
        ledger=ledger, file_name=source["file_name"][:255], format=_PAYMENT_FORMAT[kind],
        digest=source["digest"], size=source["size"], status=PaymentFileStatus.ACCEPTED, summary={},
        created_by_id=created_by_id, actor=actor_label,
    )  # fmt: skip
    bank_name = "Bankgirot" if kind == DirectDebitKind.AUTOGIRO_SE else "Nets"
    payments = [
        bankfiles.BankPayment(
            archive_ref=_debit_archive_ref(attempt),
            amount=r.amount,
            currency=ledger.currency,
            reference=attempt.invoice.payment_ref,
            text=f"{kind.label}: debit of {r.debit_date.isoformat()} approved by {bank_name}",
            payer_name="",
            payer_account=attempt.payer_ref,
            booking_date=booking_date,
            value_date=r.debit_date,
            receiving_account=ledger.client_funds_account,
            line=r.line,
        )
        for attempt, r, _reason in approved
    ]
    booked = _empty_summary(source["file_name"], file_row.format, ledger)
    _book_rounds(
        ledger=ledger, file_row=file_row, payments=iter(payments), references={p.reference for p in payments},
        expected=len(payments), actor=actor, summary=booked, reconcile=False,
    )  # fmt: skip
    booked["status"] = PaymentFileStatus.ACCEPTED
    PaymentFile.objects.filter(pk=file_row.pk).update(summary=booked)
    with connection.cursor() as cursor:
        cursor.execute(
            _BOOKED_SQL,
            {
                "ledger": ledger.id,
                "paid": DirectDebitStatus.PAID.value,
                "sent": DirectDebitStatus.SENT.value,
                "approved": DirectDebitBankOutcome.APPROVED.value,
                "as_of": booking_date,
                "now": timezone.now(),
                "ids": [attempt.pk for attempt, _r, _reason in approved],
                "results": [reason for _attempt, _r, reason in approved],
                "refs": [p.archive_ref for p in payments],
            },
        )
        if cursor.rowcount != len(approved):  # the attempts are locked: nobody else settled them
            raise ValidationFailed("debits changed while booking them", code="import_conflict")
    summary["approved"] += len(approved)
    summary["booked"] = {"payment_file": file_row.pk, "payments": booked["payments"],
                         "total_amount": booked["total_amount"]}  # fmt: skip


def _scheme_file_import(*, kind, what, data, file_name, digest, company_no, actor, booking_date) -> dict:
    """debit_agreements_import for Autogiro and Betalingsservice files (see there)."""
    created_by_id, actor_label = _actor_fields(actor)
    ledger = None

    def empty() -> dict:
        return {
            **_empty_agreement_summary(file_name, ledger),
            "kind": kind.value,
            "results": 0,
            "approved": 0,
            "renewed": 0,
            "failed": 0,
            "exhausted": 0,
            "booked": None,
        }

    def record(status: str, summary: dict) -> DebitAgreementFile:
        return _agreement_file_record(
            ledger=ledger, kind=kind, file_name=file_name, data=data, digest=digest,
            status=status, summary=summary, created_by_id=created_by_id, actor_label=actor_label,
        )  # fmt: skip

    try:
        accounts, consents, results = _parse_scheme_file(kind, what, data)
        ledger = _scheme_ledger(kind, accounts, company_no)
    except FileRejected as exc:
        summary = {**empty(), "status": PaymentFileStatus.REJECTED, "errors": [exc.as_dict()]}
        return {**summary, "agreement_file": record(PaymentFileStatus.REJECTED, summary).pk}

    booking_date = booking_date or ledger.today()
    summary = {**empty(), "booking_date": booking_date.isoformat()}
    summary["agreements"], summary["results"] = len(consents), len(results)
    try:
        with transaction.atomic():
            _lock(ledger, _LOCK_AGREEMENTS)
            _lock(ledger, _LOCK_CLAIMS)
            earlier = DebitAgreementFile.objects.filter(
                ledger=ledger, digest=digest, status=PaymentFileStatus.ACCEPTED
            ).first()
            if earlier is not None:
                summary["status"] = PaymentFileStatus.DUPLICATE
                summary["duplicate_of"] = {"agreement_file": earlier.pk, "file": earlier.file_name}
                return {**summary, "agreement_file": record(PaymentFileStatus.DUPLICATE, summary).pk}
            summary["status"] = PaymentFileStatus.ACCEPTED
            if consents:
                _apply_consent_notices(ledger, kind, consents, summary, file_name, booking_date, actor)
            if results:
                source = {"file_name": file_name, "digest": digest, "size": len(data)}
                _apply_result_notices(ledger, kind, results, summary, source, booking_date, actor)
            row = record(PaymentFileStatus.ACCEPTED, summary)
    except IntegrityError as exc:
        raise ValidationFailed(
            f"{file_name}: conflicts with a concurrent import: {exc}", code="import_conflict"
        ) from exc
    return {**summary, "agreement_file": row.pk}
