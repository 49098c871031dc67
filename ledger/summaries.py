"""The read models kept beside the journal: the dashboard's monthly summaries (ledger.models.JournalMonth,
PaidMonth), the invoices' open-amount versions for the reports as of a date (OpenVersion), the
registrations per day for the created-invoices report (RegistrationDay) and the journal per day, account
and action for the monthly accounting report (AccountDay).

The database keeps them (ledger/sql/journal_months.sql, open_versions.sql, registration_days.sql,
account_days.sql): every
statement that adds postings or invoice events adds or closes their rows. Here: merging a ledger's monthly rows into one per
key (the business day's last part), recomputing both from the journal, and the checks verify_ledger runs.
"""

import json

from django.db import connection, transaction

from ledger.models import AccountDay, JournalMonth, Ledger, PaidMonth, RegistrationDay

# overdue_from is NULL for funds-in rows; a join compares NULLs as unequal, so it joins on a stand-in
_OVERDUE_KEY = "coalesce(overdue_from, '-infinity') AS overdue_key"
_JOURNAL_SUMS = ("receivable", "capital", "capital_postings", "funds_in", "funds_in_postings")


def ledger_summaries_compact(*, ledger: Ledger) -> dict:
    """Merge the ledger's summary rows into one per key; returns the row counts before and after."""
    with transaction.atomic():
        before = _row_counts(ledger)
        with connection.cursor() as cursor:
            cursor.execute("SELECT ledger_summaries_compact(%s)", [ledger.id])
            cursor.execute("SELECT ledger_registration_days_compact(%s)", [ledger.id])
            cursor.execute("SELECT ledger_account_days_compact(%s)", [ledger.id])
        after = _row_counts(ledger)
    return {
        "journal_months": [before[0], after[0]],
        "paid_months": [before[1], after[1]],
        "registration_days": [before[2], after[2]],
        "account_days": [before[3], after[3]],
    }


def ledger_summaries_rebuild(*, ledger: Ledger) -> None:
    """Recompute the ledger's summaries, open-amount versions, registration days and account days from
    the journal and the invoice events
    (after a load that bypassed the triggers, or to repair them)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT ledger_summaries_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT ledger_open_versions_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT ledger_registration_days_rebuild(%s)", [ledger.id])
        cursor.execute("SELECT ledger_account_days_rebuild(%s)", [ledger.id])


def ledger_summaries_problems(*, ledger: Ledger) -> list[dict]:
    """Where the kept summaries differ from the journal and the events recomputed: one entry per key."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH kept AS (
                SELECT month, kind, {_OVERDUE_KEY}, {", ".join(f"sum({c}) AS {c}" for c in _JOURNAL_SUMS)}
                  FROM ledger_journalmonth WHERE ledger_id = %(ledger)s GROUP BY 1, 2, 3
            ), journal AS (
                SELECT month, kind, {_OVERDUE_KEY}, {", ".join(_JOURNAL_SUMS)}
                  FROM ledger_journal_month_sums(%(ledger)s, '-infinity', 'infinity')
            )
            SELECT month, kind, nullif(overdue_key, '-infinity'), to_jsonb(kept), to_jsonb(journal)
              FROM kept FULL JOIN journal USING (month, kind, overdue_key)
             WHERE ({", ".join(f"kept.{c}" for c in _JOURNAL_SUMS)})
                   IS DISTINCT FROM ({", ".join(f"journal.{c}" for c in _JOURNAL_SUMS)})
             ORDER BY 1, 2, 3 NULLS FIRST
            """,
            {"ledger": ledger.id},
        )
        journal = [
            {"summary": "journal_months", "ledger": ledger.company_no, "month": str(month), "kind": kind,
             "overdue_from": str(overdue), "kept": _sums(kept), "journal": _sums(computed)}
            for month, kind, overdue, kept, computed in cursor.fetchall()
        ]  # fmt: skip
        cursor.execute(
            """
            WITH kept AS (
                SELECT month, stage, sum(invoices) AS invoices FROM ledger_paidmonth
                 WHERE ledger_id = %(ledger)s GROUP BY 1, 2
            ), events AS (
                SELECT month, stage, invoices FROM ledger_paid_month_sums(%(ledger)s, '-infinity', 'infinity')
            )
            SELECT month, stage, kept.invoices, events.invoices
              FROM kept FULL JOIN events USING (month, stage)
             WHERE kept.invoices IS DISTINCT FROM events.invoices
             ORDER BY 1, 2
            """,
            {"ledger": ledger.id},
        )
        paid = [
            {
                "summary": "paid_months",
                "ledger": ledger.company_no,
                "month": str(month),
                "stage": stage,
                "kept": kept,
                "events": computed,
            }
            for month, stage, kept, computed in cursor.fetchall()
        ]
        cursor.execute(
            """
            WITH kept AS (
                SELECT booking_date, actor, sum(invoices) AS invoices, sum(amount) AS amount
                  FROM ledger_registrationday WHERE ledger_id = %(ledger)s GROUP BY 1, 2
            ), events AS (
                SELECT booking_date, actor, invoices, amount FROM ledger_registration_day_sums(%(ledger)s)
            )
            SELECT booking_date, actor, kept.invoices, kept.amount, events.invoices, events.amount
              FROM kept FULL JOIN events USING (booking_date, actor)
             WHERE (kept.invoices, kept.amount) IS DISTINCT FROM (events.invoices, events.amount)
             ORDER BY 1, 2
            """,
            {"ledger": ledger.id},
        )
        registered = [
            {"summary": "registration_days", "ledger": ledger.company_no, "booking_date": str(day),
             "actor": actor, "kept": _registered(kept, kept_amount), "events": _registered(counted, counted_amount)}
            for day, actor, kept, kept_amount, counted, counted_amount in cursor.fetchall()
        ]  # fmt: skip
        cursor.execute(
            """
            WITH kept AS (
                SELECT booking_date, account_id, action, sum(postings) AS postings, sum(debit) AS debit,
                       sum(credit) AS credit
                  FROM ledger_accountday WHERE ledger_id = %(ledger)s GROUP BY 1, 2, 3
            ), journal AS (
                SELECT booking_date, account_id, action, postings, debit, credit
                  FROM ledger_account_day_sums(%(ledger)s)
            )
            SELECT booking_date, a.number, action, kept.postings, kept.debit, kept.credit,
                   journal.postings, journal.debit, journal.credit
              FROM kept FULL JOIN journal USING (booking_date, account_id, action)
              JOIN ledger_account a ON a.id = account_id
             WHERE (kept.postings, kept.debit, kept.credit)
                   IS DISTINCT FROM (journal.postings, journal.debit, journal.credit)
             ORDER BY 1, 2, 3
            """,
            {"ledger": ledger.id},
        )
        accounts = [
            {"summary": "account_days", "ledger": ledger.company_no, "booking_date": str(day),
             "account": number, "action": action, "kept": _account_sums(row[:3]), "journal": _account_sums(row[3:])}
            for day, number, action, *row in cursor.fetchall()
        ]  # fmt: skip
    return journal + paid + registered + accounts


_VERSION_COLUMNS = ("valid_to", "customer_id", "due_date", "capital", "fees", "interest", "paid", "open")


def ledger_open_versions_problems(*, ledger: Ledger, limit: int = 100) -> list[dict]:
    """Where the kept open-amount versions differ from the journal recomputed: one entry per invoice and
    version start (at most `limit`), with the version kept and the one the journal gives (None: none)."""
    kept_columns = ", ".join(f"kept.{c}" for c in _VERSION_COLUMNS)
    journal_columns = ", ".join(f"journal.{c}" for c in _VERSION_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH kept AS (
                SELECT invoice_id, valid_from, {", ".join(_VERSION_COLUMNS)}, true AS present
                  FROM ledger_openversion WHERE ledger_id = %(ledger)s
            ), journal AS (
                SELECT invoice_id, valid_from, {", ".join(_VERSION_COLUMNS)}, true AS present
                  FROM ledger_open_version_sums(%(ledger)s)
            )
            SELECT i.invoice_no, valid_from, kept.present, {kept_columns}, journal.present, {journal_columns}
              FROM kept FULL JOIN journal USING (invoice_id, valid_from)
              LEFT JOIN ledger_invoice i ON i.id = invoice_id
             WHERE ({kept_columns}) IS DISTINCT FROM ({journal_columns})
             ORDER BY i.invoice_no, valid_from
             LIMIT %(limit)s
            """,
            {"ledger": ledger.id, "limit": limit},
        )
        width = len(_VERSION_COLUMNS) + 1
        return [
            {"summary": "open_versions", "ledger": ledger.company_no, "invoice_no": row[0],
             "valid_from": str(row[1]), "kept": _version(row[2:2 + width]), "journal": _version(row[2 + width:])}
            for row in cursor.fetchall()
        ]  # fmt: skip


def _version(values: tuple) -> dict | None:
    present, *rest = values
    if not present:
        return None
    return {
        name: None if value is None else str(value)
        for name, value in zip(_VERSION_COLUMNS, rest, strict=True)
    }


def _account_sums(values) -> dict | None:
    postings, debit, credit = values
    return None if postings is None else {"postings": postings, "debit": str(debit), "credit": str(credit)}


def _registered(invoices: int | None, amount) -> dict | None:
    return None if invoices is None else {"invoices": invoices, "amount": str(amount)}


def _sums(value) -> dict | None:
    """A row's sums as a dict (psycopg hands jsonb built in the query over as text)."""
    return json.loads(value) if isinstance(value, str) else value


def _row_counts(ledger: Ledger) -> tuple[int, int, int, int]:
    return (
        JournalMonth.objects.filter(ledger=ledger).count(),
        PaidMonth.objects.filter(ledger=ledger).count(),
        RegistrationDay.objects.filter(ledger=ledger).count(),
        AccountDay.objects.filter(ledger=ledger).count(),
    )
