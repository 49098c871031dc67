"""Reads for the accounting files: the postings and events of one ledger and booking date."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from ledger.models import CustomerEventKind, InvoiceEventKind, Ledger


class PostingRow(NamedTuple):
    """A posting as the Accounting Detail states it (a tuple: a day may have hundreds of thousands)."""

    transaction_id: int
    action: str
    cause: str
    reverses_id: int | None
    description: str
    account_number: str
    account_name: str
    component: str
    invoice_no: str
    payment_ref: str
    customer_no: str
    bank_archive_ref: str
    booking_date: date
    value_date: date
    amount: Decimal
    currency: str


def day_postings(*, ledger: Ledger, booking_date: date) -> list[PostingRow]:
    """Every posting of the ledger's transactions booked on `booking_date`, by transaction then posting.

    The value date is the payment's (the day the bank credited the money) where the posting or its
    transaction names a payment, else the booking date."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id,
                      CASE WHEN rt.kind IS NULL THEN t.kind ELSE rt.kind || '_reversal' END,
                      t.cause, t.reverses_id, t.description,
                      a.number, a.name, p.component,
                      coalesce(i.invoice_no, ''), coalesce(i.payment_ref, ''), coalesce(c.customer_no, ''),
                      coalesce(pay.bank_archive_ref, ''), t.booking_date,
                      coalesce(pay.value_date, t.booking_date), p.amount, p.currency
                 FROM ledger_journaltransaction t
                 JOIN ledger_posting p ON p.transaction_id = t.id
                 JOIN ledger_account a ON a.id = p.account_id
                 LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
                 LEFT JOIN ledger_invoice i ON i.id = p.invoice_id
                 LEFT JOIN ledger_customer c ON c.id = p.customer_id
                 LEFT JOIN ledger_payment pay ON pay.id = coalesce(p.payment_id, t.payment_id)
                WHERE t.ledger_id = %s AND t.booking_date = %s
                ORDER BY t.id, p.id""",
            [ledger.id, booking_date],
        )
        # The action is computed in the query (a reversal is named after what it reverses, e.g.
        # payment_reversal): one tuple per row, no Python work per row.
        return list(map(PostingRow._make, cursor.fetchall()))


@dataclass(frozen=True)
class AccountTotal:
    number: str
    name: str
    amount: Decimal


def day_account_totals(*, ledger: Ledger, booking_date: date) -> list[AccountTotal]:
    """The day's postings summed per account (the SIE4 voucher): one GROUP BY."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.number, a.name, sum(p.amount)
                 FROM ledger_journaltransaction t
                 JOIN ledger_posting p ON p.transaction_id = t.id
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE t.ledger_id = %s AND t.booking_date = %s
                GROUP BY a.number, a.name
                ORDER BY a.number""",
            [ledger.id, booking_date],
        )
        return [AccountTotal(number, name, amount) for number, name, amount in cursor.fetchall()]


@dataclass(frozen=True)
class EventRow:
    id: int
    kind: str
    description: str
    subject: dict  # invoice_no/payment_ref/customer_no or customer_no
    from_status: str
    to_status: str
    old_value: dict
    new_value: dict
    reason: str
    transaction_id: int | None
    actor: str
    created_at: datetime


def event_description(kind: str, labels: dict[str, str]) -> str:
    """A kind's label where the code knows it, else the kind itself in words (reminder_sent ->
    'Reminder sent'): event kinds added later appear in the journals without a code change here."""
    return labels.get(kind) or kind.replace("_", " ").capitalize()


def day_invoice_events(*, ledger: Ledger, booking_date: date) -> list[EventRow]:
    labels = dict(InvoiceEventKind.choices)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT e.id, e.kind, i.invoice_no, i.payment_ref, c.customer_no, e.from_status, e.to_status,
                      e.reason, e.transaction_id, e.actor, e.created_at
                 FROM ledger_invoiceevent e
                 JOIN ledger_invoice i ON i.id = e.invoice_id
                 JOIN ledger_customer c ON c.id = i.customer_id
                WHERE e.ledger_id = %s AND e.booking_date = %s
                ORDER BY e.id""",
            [ledger.id, booking_date],
        )
        return [
            EventRow(
                id=row[0],
                kind=row[1],
                description=event_description(row[1], labels),
                subject={"invoice_no": row[2], "payment_ref": row[3], "customer_no": row[4]},
                from_status=row[5],
                to_status=row[6],
                old_value={},
                new_value={},
                reason=row[7],
                transaction_id=row[8],
                actor=row[9],
                created_at=row[10],
            )
            for row in cursor.fetchall()
        ]


def day_customer_events(*, ledger: Ledger, booking_date: date) -> list[EventRow]:
    labels = dict(CustomerEventKind.choices)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT e.id, e.kind, c.customer_no, e.old_value, e.new_value, e.reason, e.actor, e.created_at
                 FROM ledger_customerevent e
                 JOIN ledger_customer c ON c.id = e.customer_id
                WHERE e.ledger_id = %s AND e.booking_date = %s
                ORDER BY e.id""",
            [ledger.id, booking_date],
        )
        return [
            EventRow(
                id=row[0],
                kind=row[1],
                description=event_description(row[1], labels),
                subject={"customer_no": row[2]},
                from_status="",
                to_status="",
                old_value=_json(row[3]),
                new_value=_json(row[4]),
                reason=row[5],
                transaction_id=None,
                actor=row[6],
                created_at=row[7],
            )
            for row in cursor.fetchall()
        ]


def _json(value) -> dict:
    """A JSON column as read by a raw cursor (Django hands jsonb over as text)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {"value": value} if value is not None else {}
