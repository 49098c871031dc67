"""A report is first a `ReportQuery` (its SQL with a total order, its parameters and its columns), so
the same definition gives a count, one page (LIMIT/OFFSET: the UI never loads a whole report) and a
row iterator over a server-side cursor (the downloads stream, whatever the size)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple]


@dataclass(frozen=True)
class ReportQuery:
    """A report not yet run: `sql` is one SELECT ordered totally (so pages never overlap)."""

    name: str
    title: str
    columns: list[str]
    sql: str
    params: list
    # The amount columns: added up for the totals row, right-aligned, numbers in the spreadsheet.
    money_columns: tuple[str, ...] = field(default=())
    # Completes a chunk of rows with what SQL alone does not answer (one call per page or chunk).
    finish: Callable[[list[tuple]], list[tuple]] | None = None

    def finished(self, rows: list[tuple]) -> list[tuple]:
        return self.finish(rows) if self.finish and rows else rows


@dataclass(frozen=True)
class ReportPage:
    query: ReportQuery
    rows: list[tuple]
    number: int
    per_page: int
    count: int

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.count

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def report_run(query: ReportQuery) -> Report:
    """The whole report in memory (small reports, tests; the UI pages and the downloads stream)."""
    return Report(query.name, query.title, query.columns, query.finished(_fetch(query.sql, query.params)))


def report_count(*, query: ReportQuery) -> int:
    [(count,)] = _fetch(f"SELECT count(*) FROM ({query.sql}) AS report", query.params)
    return count


def report_page(*, query: ReportQuery, page: int = 1, per_page: int = 50) -> ReportPage:
    """One page of the report and the number of rows of the whole report."""
    page = max(1, page)
    count = report_count(query=query)
    page = min(page, max(1, -(-count // per_page)))
    rows = query.finished(
        _fetch(f"{query.sql} LIMIT %s OFFSET %s", [*query.params, per_page, (page - 1) * per_page])
    )
    return ReportPage(query=query, rows=rows, number=page, per_page=per_page, count=count)


def report_totals(*, query: ReportQuery) -> dict[str, Decimal]:
    """The sum of each amount column over the whole report (one aggregate over the same query)."""
    if not query.money_columns:
        return {}
    indexes = [query.columns.index(name) for name in query.money_columns]
    sums = ", ".join(f"coalesce(sum(report.c{i}), 0)" for i in indexes)
    aliases = ", ".join(f"c{i}" for i in range(len(query.columns)))
    [row] = _fetch(f"SELECT {sums} FROM ({query.sql}) AS report({aliases})", query.params)
    return dict(zip(query.money_columns, row, strict=True))


def report_rows(*, query: ReportQuery, chunk_size: int = 5000) -> Iterator[tuple]:
    """Every row, read through a server-side cursor `chunk_size` rows at a time: memory stays flat.

    Inside a transaction the cursor is a plain one, streaming as PostgreSQL produces the rows (outside
    one Django would declare it WITH HOLD, which makes PostgreSQL materialise the whole result first).
    """
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while chunk := cursor.fetchmany(chunk_size):
            yield from query.finished(chunk)

