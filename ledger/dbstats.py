"""Planner statistics for tables that bulk writes fill.

A table that has never been analyzed has no column statistics, so for the composite-key checks
(`WHERE id = $1 AND ledger_id = $2`) the planner rates the ledger_id index as good as the unique one
and may cache a plan that scans a whole ledger per row. The first large import into a new database
hit exactly that (50,000 invoices: 291 s instead of 30 s). Analyzing such a table once fixes the plan;
after that autovacuum keeps the statistics current.
"""

from django.db import connection

BULK_TABLES = (
    "ledger_customer",
    "ledger_invoice",
    "ledger_journaltransaction",
    "ledger_posting",
    "ledger_invoiceevent",
    "ledger_customerevent",
)


def analyze_if_never_analyzed(tables: tuple[str, ...] = BULK_TABLES, *, cursor=None) -> list[str]:
    """ANALYZE each table that has rows but no statistics yet; returns the tables analyzed.

    `cursor`: a psycopg cursor to use instead of Django's (the payments import's writer thread)."""
    if cursor is None:
        with connection.cursor() as cursor:
            return analyze_if_never_analyzed(tables, cursor=cursor)
    # pg_stats, unlike pg_stat_user_tables.last_analyze, changes inside the transaction that analyzed.
    cursor.execute(
        """SELECT t FROM unnest(%s::text[]) AS t
            WHERE NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = t)""",
        [list(tables)],
    )
    analyzed = []
    for (name,) in cursor.fetchall():
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")')
        if cursor.fetchone()[0]:  # an empty table would get statistics that say nothing
            cursor.execute(f'ANALYZE "{name}"')
            analyzed.append(name)
    return analyzed
