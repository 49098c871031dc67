"""The dashboard's channel mix kept beside the documents (distribution.models.DocumentMonth, kept by the
triggers of distribution/sql/document_months.sql): merging a ledger's rows into one per key (the
business day's summaries part), recomputing them from the documents, and the check verify_ledger runs."""

from django.db import connection, transaction

from distribution.models import DocumentMonth
from ledger.models import Ledger


def document_months_compact(*, ledger: Ledger) -> list[int]:
    """Merge the ledger's rows into one per key; returns the row counts before and after."""
    with transaction.atomic():
        before = DocumentMonth.objects.filter(ledger=ledger).count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT distribution_document_months_compact(%s)", [ledger.id])
        return [before, DocumentMonth.objects.filter(ledger=ledger).count()]


def document_months_rebuild(*, ledger: Ledger) -> None:
    """Recompute the ledger's rows from its documents (after a load that bypassed the triggers)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT distribution_document_months_rebuild(%s)", [ledger.id])


def document_months_problems(*, ledger: Ledger) -> list[dict]:
    """Where the kept counts differ from the documents counted: one entry per month and channel."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH kept AS (
                SELECT month, channel, sum(documents)::bigint AS documents FROM distribution_documentmonth
                 WHERE ledger_id = %(ledger)s GROUP BY 1, 2 HAVING sum(documents) <> 0
            ), counted AS (
                SELECT month, channel, documents FROM distribution_document_month_sums(%(ledger)s)
            )
            SELECT month, channel, kept.documents, counted.documents
              FROM kept FULL JOIN counted USING (month, channel)
             WHERE kept.documents IS DISTINCT FROM counted.documents
             ORDER BY 1, 2
            """,
            {"ledger": ledger.id},
        )
        return [
            {"summary": "document_months", "ledger": ledger.company_no, "month": str(month), "channel": channel,
             "kept": kept, "documents": counted}
            for month, channel, kept, counted in cursor.fetchall()
        ]  # fmt: skip
