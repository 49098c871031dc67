"""Payment claims out: `debit_claims_send` claims what falls due for consenting customers, writes the
scheme's file (avtalegiro.py, autogiro.py, betalingsservice.py), checks it and puts it in the outbox."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from ledger import references
from ledger.errors import ValidationFailed
from ledger.models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
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
from ledger.payments.direct_debit.autogiro import autogiro_mandates_send, autogiro_requests_file
from ledger.payments.direct_debit.avtalegiro import avtalegiro_claims_file
from ledger.payments.direct_debit.betalingsservice import betalingsservice_delivery
from ledger.payments.direct_debit.common import (
    _LOCK_CLAIMS,
    CONSENT_BY_KIND,
    DEFAULT_DAYS_AHEAD,
    SCHEMES,
    SUPPORTED_KINDS,
    _Claim,
    _claim_file_record,
    _digits_only,
    _kind_for,
    _lock,
    _next_file_id,
    _not_supported,
    _validate_kid,
    _write_outbox,
    outbox_round,
)
from ledger.services.common import _actor_fields
from ledger.services.outbox_files import outbox_files_publish

_CANDIDATES_SQL = """
WITH candidates AS (
    SELECT i.id AS invoice_id, 1 AS attempt_no, i.due_date AS claim_due
      FROM ledger_invoice i
     WHERE i.ledger_id = %(ledger)s AND i.status = %(open)s
       AND i.due_date BETWEEN %(earliest)s AND %(latest)s
       AND NOT EXISTS (SELECT 1 FROM ledger_directdebitattempt a WHERE a.invoice_id = i.id)
    UNION ALL
    SELECT f.invoice_id, f.last_no + 1, GREATEST(%(retry_due)s::date, i.due_date)
      FROM (SELECT a.invoice_id, max(a.attempt_no) AS last_no
              FROM ledger_directdebitattempt a
             WHERE a.ledger_id = %(ledger)s AND a.status = %(failed)s
             GROUP BY a.invoice_id
            HAVING max(a.attempt_no) < %(max_attempts)s) f
      JOIN ledger_invoice i ON i.id = f.invoice_id AND i.status = %(open)s
     WHERE NOT EXISTS (
           SELECT 1 FROM ledger_directdebitattempt a
            WHERE a.invoice_id = f.invoice_id AND a.status <> %(failed)s)
)
SELECT i.id, i.invoice_no, i.invoice_date, i.payment_ref, i.currency, i.customer_id, cu.name,
       cc.notify_payer, k.attempt_no, k.claim_due, cc.bank_ref, cu.national_id, cu.customer_no,
       COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                  WHERE p.invoice_id = i.id AND p.component <> ''), 0) AS open_amount
  FROM candidates k
  JOIN ledger_invoice i ON i.id = k.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
  JOIN ledger_customerconsent cc
    ON cc.customer_id = i.customer_id AND cc.kind = %(consent)s AND cc.active
 ORDER BY k.claim_due, i.invoice_no, i.id
"""

_CLAIM_SQL = """
WITH claimed AS (
    INSERT INTO ledger_directdebitattempt
           (ledger_id, invoice_id, customer_id, kind, attempt_no, amount, due_date, status, claim_file_id,
            sent_on, settled_on, settled_at, reason, payer_ref, bank_outcome, bank_result, created_by_id, actor,
            created_at)
    SELECT %(ledger)s, v.invoice_id, v.customer_id, %(kind)s, v.attempt_no, v.amount, v.due_date, %(sent)s,
           %(file)s, %(as_of)s, NULL, NULL, '', v.payer_ref, '', '', %(created_by)s, %(actor)s, %(now)s
      FROM unnest(%(invoices)s::bigint[], %(customers)s::bigint[], %(attempts)s::int[],
                  %(amounts)s::numeric[], %(dues)s::date[], %(payers)s::text[])
           AS v(invoice_id, customer_id, attempt_no, amount, due_date, payer_ref)
     ORDER BY v.invoice_id
    -- Two workers: the second waits on the first one's rows, then skips them (unique (invoice, attempt_no)
    -- and at most one attempt in status "sent" per invoice).
    ON CONFLICT DO NOTHING
    RETURNING id, invoice_id, attempt_no, amount, due_date
), events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, c.invoice_id, %(event)s, i.status, i.status, %(as_of)s,
           format('Direct debit attempt %%s of %%s: %%s %%s, debit date %%s, %%s %%s, file %%s',
                  c.attempt_no, %(max_attempts)s, c.amount, i.currency, to_char(c.due_date, 'YYYY-MM-DD'),
                  %(ref_label)s, i.payment_ref, %(file_name)s),
           NULL, %(created_by)s, %(actor)s, %(now)s
      FROM claimed c JOIN ledger_invoice i ON i.id = c.invoice_id
     ORDER BY c.due_date, c.invoice_id
    RETURNING id
)
SELECT c.id, c.invoice_id FROM claimed c
"""


def debit_claims_send(
    *,
    ledger: Ledger,
    as_of: date,
    days_ahead: int = DEFAULT_DAYS_AHEAD,
    actor: User | str | None,
) -> dict:
    """Send the payment claims of the ledger's direct-debit invoices in one file in its outbox.

    The scheme follows the ledger's country: AvtaleGiro (Norway, a Nets claim transmission), Autogiro
    (Sweden, a Bankgirot payment-request file), Betalingsservice (Denmark, a Nets collection delivery).
    First attempts: open invoices of customers with an active consent, due between as_of + the scheme's
    notice days and as_of + days_ahead, claimed for their due date. Retries: open invoices whose
    attempts all failed (fewer than DIRECT_DEBIT_MAX_ATTEMPTS), claimed for as_of + days_ahead (not
    before the invoice's due date). The amount is what is open on the invoice now; the reference its
    payment reference. Writes nothing and returns "claims": 0 when there is nothing to claim.
    """
    kind = _kind_for(ledger)
    if kind not in SUPPORTED_KINDS:
        return _not_supported(ledger, kind)
    scheme = SCHEMES[kind]
    if days_ahead < scheme.notice_days:
        raise ValidationFailed(
            f"days_ahead must be at least {scheme.notice_days} (the notice {kind.label} claims need), "
            f"got {days_ahead}",
            code="invalid_days_ahead",
            field="days_ahead",
        )
    if ledger.currency != scheme.currency:
        raise ValidationFailed(
            f"ledger {ledger.company_no} books {ledger.currency}: {kind.label} claims are in {scheme.currency}",
            code="currency_mismatch",
        )
    created_by_id, actor_label = _actor_fields(actor)
    summary = {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": kind.value,
        "supported": True,
        "as_of": as_of.isoformat(),
        "file": None,
        "claims": 0,
        "first_attempts": 0,
        "retries": 0,
        "total": str(ZERO),
        "currency": ledger.currency,
        "skipped": [],
    }
    outbox_files_publish(ledger=ledger)  # what a run killed after its commit left hidden
    if kind == DirectDebitKind.AUTOGIRO_SE:  # new mandates go in the same transmission
        summary.update(autogiro_mandates_send(ledger=ledger, as_of=as_of))
    with outbox_round(ledger) as written:
        with transaction.atomic():
            _lock(ledger, _LOCK_CLAIMS)
            claims = _candidates(ledger, kind, as_of, days_ahead, summary)
            if not claims:
                return summary
            file_id = _next_file_id()
            sequence = (
                DirectDebitClaimFile.objects.filter(
                    ledger=ledger, kind=kind, as_of=as_of, purpose=DirectDebitFilePurpose.CLAIMS
                ).count()
                + 1
            )
            file_name = f"{scheme.file_prefix}_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(
                    _CLAIM_SQL,
                    {
                        "ledger": ledger.id,
                        "kind": kind.value,
                        "sent": DirectDebitStatus.SENT.value,
                        "file": file_id,
                        "file_name": file_name,
                        "as_of": as_of,
                        "created_by": created_by_id,
                        "actor": actor_label,
                        "now": now,
                        "event": InvoiceEventKind.DIRECT_DEBIT_SENT.value,
                        "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
                        "ref_label": scheme.reference_label,
                        "invoices": [c.invoice_id for c in claims],
                        "customers": [c.customer_id for c in claims],
                        "attempts": [c.attempt_no for c in claims],
                        "amounts": [c.amount for c in claims],
                        "dues": [c.due_date for c in claims],
                        "payers": [c.payer or c.kid for c in claims],
                    },
                )
                got = {invoice_id for _, invoice_id in cursor.fetchall()}
            claims = [c for c in claims if c.invoice_id in got]
            if not claims:
                return summary
            total = sum((c.amount for c in claims), ZERO)
            transmission_number = _claim_file_record(file_id=file_id, ledger=ledger, kind=kind,
                                                     purpose=DirectDebitFilePurpose.CLAIMS, file_name=file_name,
                                                     as_of=as_of, claims=claims, total=total, created_by_id=created_by_id,
                                                     actor_label=actor_label, now=now)  # fmt: skip
            content = _claims_content(kind, ledger, claims, transmission_number, as_of)
            written.append(_write_outbox(ledger, file_name, content))
    summary.update(
        file=file_name,
        claims=len(claims),
        first_attempts=sum(1 for c in claims if c.attempt_no == 1),
        retries=sum(1 for c in claims if c.attempt_no > 1),
        total=str(total),
    )
    return summary


def _claims_content(
    kind: DirectDebitKind, ledger: Ledger, claims: list[_Claim], transmission_number: str, as_of: date
) -> bytes:
    if kind == DirectDebitKind.AVTALEGIRO_NO:
        return avtalegiro_claims_file(
            ledger=ledger, claims=claims, transmission_number=transmission_number, as_of=as_of
        )
    if kind == DirectDebitKind.AUTOGIRO_SE:
        return autogiro_requests_file(ledger=ledger, claims=claims, as_of=as_of)
    return betalingsservice_delivery(
        ledger=ledger, claims=claims, delivery_id=str(int(transmission_number)), as_of=as_of
    )


def _payer_and_reference(
    kind, ledger, payment_ref, bank_ref, national_id, customer_no
) -> tuple[str, str, str]:
    """(payer, reference, agreement no) a claim of this scheme carries, or raise InvalidReference saying
    why the invoice cannot be claimed."""
    if kind == DirectDebitKind.AVTALEGIRO_NO:
        return "", _validate_kid(payment_ref, ledger), ""
    reference = "".join((payment_ref or "").split())
    if kind == DirectDebitKind.AUTOGIRO_SE:
        payer = _digits_only(bank_ref) or _digits_only(national_id)
        if not payer or len(payer) > 16:
            raise references.InvalidReference(
                "the customer has no national id (RegNo) or Autogiro payer number of at most 16 digits"
            )
        if len(reference) > 16:
            raise references.InvalidReference(
                f"reference {reference!r} is longer than Autogiro's 16 characters"
            )
        return payer, reference, ""
    number = (customer_no or "").lstrip("0")
    if not (number.isascii() and number.isdigit()) or len(number) > 15:
        raise references.InvalidReference(
            f"customer no {customer_no!r} must be at most 15 digits: Betalingsservice knows the customer by it"
        )
    agreement = _digits_only(bank_ref).lstrip("0")
    if len(agreement) > 9 or len(reference) > 30:
        raise references.InvalidReference("agreement no or reference too long for Betalingsservice")
    return number, reference, agreement


def _candidates(
    ledger: Ledger, kind: DirectDebitKind, as_of: date, days_ahead: int, summary: dict
) -> list[_Claim]:
    scheme = SCHEMES[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            _CANDIDATES_SQL,
            {
                "ledger": ledger.id,
                "open": InvoiceStatus.OPEN.value,
                "failed": DirectDebitStatus.FAILED.value,
                "consent": CONSENT_BY_KIND[kind].value,
                "earliest": as_of + timedelta(days=scheme.notice_days),
                "latest": as_of + timedelta(days=days_ahead),
                "retry_due": as_of + timedelta(days=days_ahead),
                "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
            },
        )
        rows = cursor.fetchall()
    claims = []
    for (
        invoice_id,
        invoice_no,
        invoice_date,
        payment_ref,
        currency,
        customer_id,
        name,
        notify,
        attempt_no,
        due,
        bank_ref,
        national_id,
        customer_no,
        open_amount,
    ) in rows:

        def skip(code: str, message: str, invoice_no=invoice_no, attempt_no=attempt_no) -> None:
            summary["skipped"].append(
                {"invoice_no": invoice_no, "attempt_no": attempt_no, "code": code, "message": message}
            )

        amount = to_money(open_amount)
        if currency != ledger.currency:
            skip(
                "currency_mismatch",
                f"the invoice is in {currency}, {kind.label} claims are in {ledger.currency}",
            )
            continue
        if amount <= 0:
            skip("nothing_open", f"nothing is open on the invoice ({amount})")
            continue
        try:
            payer, reference, agreement = _payer_and_reference(
                kind, ledger, payment_ref, bank_ref, national_id, customer_no
            )
        except references.InvalidReference as exc:
            skip(scheme.invalid_code, f"the invoice cannot be claimed by {kind.label}: {exc}")
            continue
        claims.append(
            _Claim(
                invoice_id=invoice_id,
                invoice_no=invoice_no,
                invoice_date=invoice_date,
                customer_id=customer_id,
                customer_name=name,
                notify_payer=notify,
                kid=reference,
                attempt_no=attempt_no,
                amount=amount,
                due_date=due,
                payer=payer,
                agreement_no=agreement,
            )
        )
    return claims
