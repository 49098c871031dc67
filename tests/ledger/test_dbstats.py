from django.db import connection

from ledger.dbstats import analyze_if_never_analyzed
from tests.factories import InvoiceFactory


def column_statistics(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return cursor.fetchone()[0]


def test_tables_with_rows_get_statistics_once(db):
    InvoiceFactory()
    analyze_if_never_analyzed(("ledger_invoice", "ledger_posting"))
    assert column_statistics("ledger_invoice") > 0
    assert column_statistics("ledger_posting") > 0
    assert analyze_if_never_analyzed(("ledger_invoice", "ledger_posting")) == []
