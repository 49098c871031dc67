"""Queueing documents, set-based, inside the caller's transaction (`documents_queue`), and the day's
invoices (`invoice_documents_queue`)."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from distribution.models import (
    DocumentKind,
)
from ledger.addressees import ADDRESSEE_SQL, minor_born_after
from ledger.errors import ValidationFailed
from ledger.models import (
    InvoiceStatus,
    Ledger,
)

# --- Queueing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRequest:
    ledger_id: int
    customer_id: int
    invoice_id: int | None  # None for a debt summary / payout notice without an invoice
    kind: str  # a DocumentKind value
    booking_date: date
    source_key: str  # unique per ledger: queueing the same key again is a no-op
    facts: dict  # JSON-able facts the caller knows (fee, deadline, interest_rate, interest_from, ...)


_INSERT_SELECT = """
    INSERT INTO distribution_document
        (ledger_id, customer_id, invoice_id, kind, booking_date, source_key, facts, status, channel, route,
         channel_reason, channel_error, address, language, archive_name, checksum, attempts, last_error,
         resend_of_id, created_at)
    SELECT r.ledger_id, r.customer_id, r.invoice_id, r.kind, r.booking_date, r.source_key, r.facts::jsonb,
           'queued', '', '', '', '', '{}'::jsonb, '', '', '', 0, '', r.resend_of_id, now()
"""


def debt_summary_request(*, customer, booking_date: date, source_key: str) -> DocumentRequest:
    """A debt summary of all the customer's open invoices (no one invoice), keyed by who asked and when."""
    return DocumentRequest(ledger_id=customer.ledger_id, customer_id=customer.pk, invoice_id=None,
                           kind=DocumentKind.DEBT_SUMMARY, booking_date=booking_date, source_key=source_key,
                           facts={})  # fmt: skip


def documents_queue(*, requests: Sequence[DocumentRequest]) -> int:
    """Queue documents: one INSERT ... ON CONFLICT (ledger, source_key) DO NOTHING over arrays, in the
    caller's transaction, nothing rendered. Returns how many were new. Raises ValidationFailed (and
    queues nothing) on an unknown kind, an empty or over-long source key, facts that are not JSON, or a
    customer or invoice that is not of the request's ledger (or an invoice the customer is neither the
    debtor, the other payer nor the debtor's guardian of)."""
    return _queue(requests, resend_of=None)


def _queue(requests: Sequence[DocumentRequest], *, resend_of: Sequence[int | None] | None) -> int:
    if not requests:
        return 0
    kinds = set(DocumentKind.values)
    columns = defaultdict(list)
    for n, r in enumerate(requests):
        if r.kind not in kinds:
            raise ValidationFailed(
                f"request {n}: unknown document kind {r.kind!r}", code="unknown_document_kind"
            )
        if not r.source_key or len(r.source_key) > 200:
            raise ValidationFailed(
                f"request {n}: source_key must be 1-200 characters", code="invalid_source_key"
            )
        if not isinstance(r.booking_date, date):
            raise ValidationFailed(f"request {n}: booking_date must be a date", code="invalid_booking_date")
        try:
            # Decimal and date values become strings ("35.00", "2026-03-01"), as the renderer reads them.
            facts = json.dumps(r.facts or {}, cls=DjangoJSONEncoder)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"request {n}: facts are not JSON: {exc}", code="invalid_facts") from exc
        columns["ledger_id"].append(r.ledger_id)
        columns["customer_id"].append(r.customer_id)
        columns["invoice_id"].append(r.invoice_id)
        columns["kind"].append(r.kind)
        columns["booking_date"].append(r.booking_date)
        columns["source_key"].append(r.source_key)
        columns["facts"].append(facts)
    resend_ids = list(resend_of) if resend_of is not None else [None] * len(requests)
    arrays = [
        columns["ledger_id"],
        columns["customer_id"],
        columns["invoice_id"],
        columns["kind"],
        columns["booking_date"],
        columns["source_key"],
        columns["facts"],
        resend_ids,
    ]
    unnest = """unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::date[], %s::text[],
                       %s::text[], %s::bigint[])
                AS r(ledger_id, customer_id, invoice_id, kind, booking_date, source_key, facts, resend_of_id)"""
    with connection.cursor() as cursor:
        # Tenancy, checked before writing so the caller gets a coded error rather than a key violation.
        cursor.execute(
            f"""SELECT r.source_key FROM {unnest}
                 LEFT JOIN ledger_customer c ON c.id = r.customer_id AND c.ledger_id = r.ledger_id
                 LEFT JOIN ledger_invoice i ON i.id = r.invoice_id
                 LEFT JOIN ledger_customer debtor ON debtor.id = i.customer_id
                WHERE c.id IS NULL
                   OR (r.invoice_id IS NOT NULL
                       AND (i.id IS NULL OR i.ledger_id <> r.ledger_id
                            -- the invoice's documents go to its customer, its other payer or (a minor's)
                            -- the guardian: claims/services/addressees.py
                            OR r.customer_id NOT IN (i.customer_id, coalesce(i.payer_id, 0),
                                                     coalesce(debtor.guardian_id, 0))))
                LIMIT 5""",
            arrays,
        )
        wrong = [row[0] for row in cursor.fetchall()]
        if wrong:
            raise ValidationFailed(
                f"customer or invoice not of the request's ledger (or invoice not of, nor payable by, that customer): "
                f"{', '.join(wrong)}",
                code="document_party_mismatch",
            )
        cursor.execute(
            f"{_INSERT_SELECT} FROM {unnest} ON CONFLICT (ledger_id, source_key) DO NOTHING",
            arrays,
        )
        return cursor.rowcount


def invoice_documents_queue(*, ledger: Ledger, as_of: date) -> int:
    """Queue an `invoice` document (source key "invoice:<id>") for every open InvoiceWithDistribution
    invoice of the ledger dated on or before as_of that has none yet, addressed to its other payer or a
    minor's guardian when there is one (ledger/addressees.py). One statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{_INSERT_SELECT}
                 FROM (SELECT i.ledger_id, COALESCE({ADDRESSEE_SQL}, i.customer_id) AS customer_id,
                              i.id AS invoice_id, 'invoice' AS kind,
                              %(as_of)s::date AS booking_date, 'invoice:' || i.id AS source_key, '{{}}' AS facts,
                              NULL::bigint AS resend_of_id
                         FROM ledger_invoice i JOIN ledger_customer cu ON cu.id = i.customer_id
                        WHERE i.ledger_id = %(ledger)s AND i.with_distribution AND i.status <> %(closed)s
                          AND i.invoice_date <= %(as_of)s
                          AND NOT EXISTS (SELECT 1 FROM distribution_document d
                                           WHERE d.ledger_id = i.ledger_id
                                             AND d.source_key = 'invoice:' || i.id)) AS r
               ON CONFLICT (ledger_id, source_key) DO NOTHING""",
            {"as_of": as_of, "ledger": ledger.id, "closed": InvoiceStatus.CLOSED.value,
             "minor_born_after": minor_born_after(as_of)},  # fmt: skip
        )
        return cursor.rowcount
