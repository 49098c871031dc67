"""The outcome of the attempts (`debit_attempts_settle`), and claims cancelled when their invoice was
settled otherwise before the debit date (`debit_claims_cancel`)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from ledger.models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
    DirectDebitBankOutcome,
    DirectDebitClaimFile,
    DirectDebitFilePurpose,
    DirectDebitKind,
    DirectDebitStatus,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    User,
)
from ledger.money import ZERO, to_money
from ledger.payments.direct_debit.autogiro import autogiro_requests_file
from ledger.payments.direct_debit.avtalegiro import avtalegiro_claims_file
from ledger.payments.direct_debit.common import (
    _FAILED_RETURNING,
    _FAILURE_EVENTS_SQL,
    _LOCK_CLAIMS,
    SCHEMES,
    SETTLE_DAYS,
    SUPPORTED_KINDS,
    DirectDebitFileError,
    _Claim,
    _claim_file_record,
    _kind_for,
    _lock,
    _next_file_id,
    _write_outbox,
    outbox_round,
)
from ledger.services.common import _actor_fields

# --- Outcome of the attempts ----------------------------------------------------------------------------

_PAID_SQL = """
UPDATE ledger_directdebitattempt a
   SET status = %(paid)s, settled_on = %(as_of)s, settled_at = %(now)s,
       reason = CASE WHEN s.invoice_status = %(closed)s THEN 'Invoice closed' ELSE 'Nothing open on the invoice' END
  FROM (SELECT a2.id, i.status AS invoice_status,
               COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                          WHERE p.invoice_id = a2.invoice_id AND p.component <> ''), 0) AS open_amount
          FROM ledger_directdebitattempt a2 JOIN ledger_invoice i ON i.id = a2.invoice_id
         WHERE a2.ledger_id = %(ledger)s AND a2.status = %(sent)s) s
 WHERE a.id = s.id AND (s.invoice_status = %(closed)s OR s.open_amount <= 0)
   -- before the debit date an invoice settled otherwise is a claim to cancel (debit_claims_cancel)
   AND a.due_date <= %(as_of)s
RETURNING a.id
"""


# Late: still open SETTLE_DAYS after the debit date. A debit the bank reported approved waits for its
# money instead (it is booked from the bank's payment file).
_FAILED_SQL = (
    """
WITH failed AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(failed)s, settled_on = %(as_of)s, settled_at = %(now)s,
           reason = format('Not paid %%s days after the debit date %%s', %(settle_days)s::int,
                           to_char(a.due_date, 'YYYY-MM-DD'))
      FROM ledger_invoice i
     WHERE i.id = a.invoice_id AND a.ledger_id = %(ledger)s AND a.status = %(sent)s
       AND a.due_date < %(cutoff)s AND a.bank_outcome <> %(approved)s"""
    + _FAILED_RETURNING
    + ")"
    + _FAILURE_EVENTS_SQL
)


def debit_attempts_settle(*, ledger: Ledger, as_of: date, actor: User | str | None) -> dict:
    """Settle the ledger's sent attempts as of `as_of`: paid when nothing is open on the invoice any more
    (or it is closed), failed when it is still open more than SETTLE_DAYS days after the debit date.

    Each failure is an invoice event `direct_debit_failed`; the last allowed failure also records
    `direct_debit_exhausted` (the reminder process takes over). Safe to run twice for the same day."""
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    params = {
        "ledger": ledger.id,
        "as_of": as_of,
        "now": now,
        "sent": DirectDebitStatus.SENT.value,
        "paid": DirectDebitStatus.PAID.value,
        "failed": DirectDebitStatus.FAILED.value,
        "closed": InvoiceStatus.CLOSED.value,
        "cutoff": as_of - timedelta(days=SETTLE_DAYS),
        "approved": DirectDebitBankOutcome.APPROVED.value,
        "settle_days": SETTLE_DAYS,
        "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
        "failed_event": InvoiceEventKind.DIRECT_DEBIT_FAILED.value,
        "exhausted_event": InvoiceEventKind.DIRECT_DEBIT_EXHAUSTED.value,
        "created_by": created_by_id,
        "actor": actor_label,
    }
    with transaction.atomic():
        _lock(ledger, _LOCK_CLAIMS)
        with connection.cursor() as cursor:
            cursor.execute(_PAID_SQL, params)
            paid = cursor.rowcount
            cursor.execute(_FAILED_SQL, params)
            failures = [
                {
                    "invoice_no": invoice_no,
                    "attempt_no": attempt_no,
                    "amount": str(amount),
                    "due_date": due.isoformat(),
                    "final": attempt_no >= DIRECT_DEBIT_MAX_ATTEMPTS,
                }
                for invoice_no, attempt_no, amount, due in cursor.fetchall()
            ]
    return {
        "ok": True,
        "ledger": ledger.company_no,
        "as_of": as_of.isoformat(),
        "paid": paid,
        "failed": len(failures),
        "exhausted": sum(1 for f in failures if f["final"]),
        "failures": failures,
    }


# --- Cancelling claims settled otherwise before the debit date ----------------------------------------------

# Sent attempts whose invoice no longer needs the debit (closed, or nothing open: paid, credited or
# written off) while the debit date is still ahead.
_TO_CANCEL_SQL = """
SELECT a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, a.payer_ref, i.invoice_no, i.invoice_date,
       i.payment_ref, i.customer_id, cu.name, i.status
  FROM ledger_directdebitattempt a
  JOIN ledger_invoice i ON i.id = a.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
 WHERE a.ledger_id = %(ledger)s AND a.status = %(sent)s AND a.kind = %(kind)s AND a.due_date > %(as_of)s
   AND (i.status = %(closed)s
        OR COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                      WHERE p.invoice_id = i.id AND p.component <> ''), 0) <= 0)
 ORDER BY a.due_date, i.invoice_no, a.id
   FOR UPDATE OF a
"""

_CANCEL_SQL = """
WITH cancelled AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(cancelled)s, settled_on = %(as_of)s, settled_at = %(now)s, cancel_file_id = %(file)s,
           reason = v.reason
      FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
     WHERE a.id = v.id AND a.status = %(sent)s
    RETURNING a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, v.reason
), events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, c.invoice_id, %(event)s, i.status, i.status, %(as_of)s,
           format('Direct debit attempt %%s cancelled before the debit date %%s (%%s %%s): %%s; file %%s',
                  c.attempt_no, to_char(c.due_date, 'YYYY-MM-DD'), c.amount, i.currency, c.reason,
                  %(file_name)s),
           NULL, %(created_by)s, %(actor)s, %(now)s
      FROM cancelled c JOIN ledger_invoice i ON i.id = c.invoice_id
     ORDER BY c.due_date, c.invoice_id
    RETURNING id
)
SELECT c.id FROM cancelled c
"""


def debit_claims_cancel(*, ledger: Ledger, as_of: date, actor: User | str | None) -> dict:
    """Cancel the claims at the bank whose invoice was paid, credited or written off before the debit date.

    AvtaleGiro: a Nets cancellation transmission (assignment type 36, transaction type 93); Autogiro: a
    request file of TK23 cancellations. Each claim is cancelled once: its attempt becomes "cancelled"
    with the cancellation file, and the invoice records a `direct_debit_cancelled` event. File, attempts
    and events are written together or not at all. Betalingsservice claims are not cancelled (listed
    in "not_cancellable"): the money, if debited, becomes the customer's credit balance.
    """
    kind = _kind_for(ledger)
    summary = {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": kind.value if kind else None,
        "as_of": as_of.isoformat(),
        "file": None,
        "cancelled": 0,
        "total": str(ZERO),
        "not_cancellable": [],
    }
    if kind not in SUPPORTED_KINDS:
        return summary
    scheme = SCHEMES[kind]
    created_by_id, actor_label = _actor_fields(actor)
    with outbox_round(ledger) as written:
        with transaction.atomic():
            _lock(ledger, _LOCK_CLAIMS)
            with connection.cursor() as cursor:
                cursor.execute(
                    _TO_CANCEL_SQL,
                    {
                        "ledger": ledger.id,
                        "sent": DirectDebitStatus.SENT.value,
                        "kind": kind.value,
                        "as_of": as_of,
                        "closed": InvoiceStatus.CLOSED.value,
                    },
                )
                rows = cursor.fetchall()
            if not rows:
                return summary
            if not scheme.can_cancel:
                summary["not_cancellable"] = [
                    {"invoice_no": row[6], "attempt_no": row[2], "due_date": row[4].isoformat()}
                    for row in rows
                ]
                return summary
            claims, reasons = [], []
            for (
                _id,
                invoice_id,
                attempt_no,
                amount,
                due,
                payer_ref,
                invoice_no,
                invoice_date,
                payment_ref,
                customer_id,
                name,
                status,
            ) in rows:
                claims.append(
                    _Claim(
                        invoice_id=invoice_id,
                        invoice_no=invoice_no,
                        invoice_date=invoice_date,
                        customer_id=customer_id,
                        customer_name=name,
                        notify_payer=False,
                        kid=payment_ref,
                        attempt_no=attempt_no,
                        amount=to_money(amount),
                        due_date=due,
                        payer=payer_ref,
                    )
                )
                reasons.append(
                    "invoice closed" if status == InvoiceStatus.CLOSED else "nothing open on the invoice"
                )
            file_id = _next_file_id()
            sequence = (
                DirectDebitClaimFile.objects.filter(
                    ledger=ledger, kind=kind, as_of=as_of, purpose=DirectDebitFilePurpose.CANCELLATIONS
                ).count()
                + 1
            )
            file_name = f"{scheme.file_prefix}_CANCEL_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
            total = sum((c.amount for c in claims), ZERO)
            now = timezone.now()
            transmission_number = _claim_file_record(file_id=file_id, ledger=ledger, kind=kind,
                                                     purpose=DirectDebitFilePurpose.CANCELLATIONS, file_name=file_name,
                                                     as_of=as_of, claims=claims, total=total, created_by_id=created_by_id,
                                                     actor_label=actor_label, now=now)  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(
                    _CANCEL_SQL,
                    {
                        "ledger": ledger.id,
                        "cancelled": DirectDebitStatus.CANCELLED.value,
                        "sent": DirectDebitStatus.SENT.value,
                        "as_of": as_of,
                        "now": now,
                        "file": file_id,
                        "file_name": file_name,
                        "event": InvoiceEventKind.DIRECT_DEBIT_CANCELLED.value,
                        "created_by": created_by_id,
                        "actor": actor_label,
                        "ids": [row[0] for row in rows],
                        "reasons": reasons,
                    },
                )
                if cursor.rowcount != len(rows):  # the rows are locked: nobody else can have settled them
                    raise DirectDebitFileError("attempts changed while cancelling", code="cancel_conflict")
            if kind == DirectDebitKind.AVTALEGIRO_NO:
                content = avtalegiro_claims_file(
                    ledger=ledger,
                    claims=claims,
                    transmission_number=transmission_number,
                    as_of=as_of,
                    cancel=True,
                )
            else:
                content = autogiro_requests_file(ledger=ledger, claims=claims, as_of=as_of, cancel=True)
            written.append(_write_outbox(ledger, file_name, content))
    summary.update(file=file_name, cancelled=len(claims), total=str(total))
    return summary
