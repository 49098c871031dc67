"""A report is first a `ReportQuery` (its SQL with a total order, its parameters and its columns), so
the same definition gives its row count and totals (one scan, without the sort), one page (the UI never
loads a whole report) and a row iterator over a server-side cursor (the downloads stream, whatever the
size). Every report names the columns its order sorts by (`keyset`; an id that makes the order total is
a hidden column, never shown) and pages by seeking past the last row shown (`after`), so a deep page
costs what the first one does. A report over many items can also give a cheaper count and totals
(`summary_sql`) and a page that walks an index in its own order (`page_sql`)."""

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
    # The SQL's columns its ORDER BY sorts by, in its order, ascending and unique together: pages seek
    # past the last row shown instead of counting the rows before them.
    keyset: tuple[int, ...] = ()
    # Columns the SQL adds after the report's own for the keyset only (an id that makes the order total):
    # never shown, never downloaded.
    hidden_columns: int = 0
    # The row count and the totals (in money_columns' order) from a cheaper SELECT than the report's
    # own: a report whose rows need joins and lookups its totals do not.
    summary_sql: str = ""
    summary_params: list = field(default_factory=list)
    # A keyset report's page by walking an index in the report's order: the SQL and parameters of the
    # rows after `after` (None: from the first), at most `limit`. report_page uses it once the report
    # has WALK_FROM rows; below that a walk could visit many rows for each it finds.
    page_sql: Callable[[list[str] | None, int], tuple[str, list]] | None = None

    def finished(self, rows: list[tuple]) -> list[tuple]:
        """The rows as the report shows them: the hidden key columns cut off, `finish` applied."""
        if self.hidden_columns:
            rows = [row[: len(self.columns)] for row in rows]
        return self.finish(rows) if self.finish and rows else rows

    def key_of(self, row: tuple) -> list[str]:
        return [str(row[i]) for i in self.keyset]

    @property
    def unordered(self) -> str:
        """The SQL without its closing ORDER BY (every report's SQL ends with it), for what needs no order:
        PostgreSQL sorts a subquery it is asked to sort, even under a count."""
        body, _, order = self.sql.rpartition("ORDER BY")
        if not body or ")" in order:
            return self.sql
        return body

    def aliased(self) -> str:
        aliases = ", ".join(f"c{i}" for i in range(len(self.columns) + self.hidden_columns))
        return f"({self.unordered}) AS report({aliases})"


@dataclass(frozen=True)
class ReportPage:
    query: ReportQuery
    rows: list[tuple]
    number: int
    per_page: int
    count: int
    totals: dict[str, Decimal] = field(default_factory=dict)
    # The key of the page's last row, for the next page's `after` (empty: the report pages by number).
    next_after: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.count

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def _fetch(sql: str, params: list | dict) -> list[tuple]:
    """Run a report's (or a dashboard figure's) query with PostgreSQL's JIT off (SET LOCAL: this
    transaction only): a report over a hundred thousand open items passes JIT's cost threshold, and
    compiling the plan cost more than it saved."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def report_run(query: ReportQuery) -> Report:
    """The whole report in memory (small reports, tests; the UI pages and the downloads stream)."""
    return Report(query.name, query.title, query.columns, query.finished(_fetch(query.sql, query.params)))


def report_summary(*, query: ReportQuery) -> tuple[int, dict[str, Decimal]]:
    """The number of rows of the whole report and the sum of each amount column, in one scan."""
    if query.summary_sql:
        [(count, *totals)] = _fetch(query.summary_sql, query.summary_params)
        return count, dict(zip(query.money_columns, totals, strict=True))
    indexes = [query.columns.index(name) for name in query.money_columns]
    sums = "".join(f", coalesce(sum(report.c{i}), 0)" for i in indexes)
    [(count, *totals)] = _fetch(f"SELECT count(*){sums} FROM {query.aliased()}", query.params)
    return count, dict(zip(query.money_columns, totals, strict=True))


def report_count(*, query: ReportQuery) -> int:
    if query.summary_sql:
        return report_summary(query=query)[0]
    [(count,)] = _fetch(f"SELECT count(*) FROM {query.aliased()}", query.params)
    return count


def report_totals(*, query: ReportQuery) -> dict[str, Decimal]:
    """The sum of each amount column over the whole report (one aggregate over the same query)."""
    return report_summary(query=query)[1] if query.money_columns else {}


def report_page(
    *, query: ReportQuery, page: int = 1, per_page: int = 50, after: list[str] | None = None
) -> ReportPage:
    """One page of the report with the row count and totals of the whole report. With `after` (the key
    of the previous page's last row, `ReportPage.next_after`) a keyset report seeks past it; `page` then
    only numbers the page shown."""
    page = max(1, page)
    seek = bool(query.keyset and after and len(after) == len(query.keyset))
    if query.page_sql and (page == 1 or seek):
        count, totals = report_summary(query=query)
        if count >= WALK_FROM:
            rows = _fetch(*query.page_sql(after if seek else None, per_page))
            return _page(query, rows, page, per_page, count, totals)
    if query.keyset and page == 1 and not seek:
        # a keyset report's first page: the rows with the count and totals of all of them, in one scan
        rows, count, totals = _page_with_summary(query, per_page)
    else:
        count, totals = report_summary(query=query)
        page = min(page, max(1, -(-count // per_page)))
        if seek:
            key = ", ".join(f"report.c{i}" for i in query.keyset)
            rows = _fetch(
                f"SELECT * FROM {query.aliased()} WHERE ({key}) > ({', '.join(['%s'] * len(after))})"
                f" ORDER BY {key} LIMIT %s",
                [*query.params, *after, per_page],
            )
        else:
            rows = _fetch(f"{query.sql} LIMIT %s OFFSET %s", [*query.params, per_page, (page - 1) * per_page])
    return _page(query, rows, page, per_page, count, totals)


def _page(query: ReportQuery, rows: list[tuple], number: int, per_page: int, count: int, totals) -> ReportPage:
    """The page of the rows as the SQL gave them (hidden key columns included: the next page's key)."""
    after = query.key_of(rows[-1]) if query.keyset and rows else []
    return ReportPage(query=query, rows=query.finished(rows), number=number, per_page=per_page, count=count,
                      totals=totals, next_after=after)  # fmt: skip


# The rows from which a report with a `page_sql` walks to its page: below, its own SQL is cheap.
WALK_FROM = 2000


def _page_with_summary(query: ReportQuery, per_page: int) -> tuple[list[tuple], int, dict[str, Decimal]]:
    width = len(query.columns) + query.hidden_columns
    key = ", ".join(f"report.c{i}" for i in query.keyset)
    indexes = [query.columns.index(name) for name in query.money_columns]
    sums = "".join(f", coalesce(sum(report.c{i}) OVER (), 0)" for i in indexes)
    found = _fetch(
        f"SELECT report.*, count(*) OVER (){sums} FROM {query.aliased()} ORDER BY {key} LIMIT %s",
        [*query.params, per_page],
    )
    if not found:
        count, totals = report_summary(query=query)
        return [], count, totals
    first = found[0]
    totals = dict(zip(query.money_columns, first[width + 1 :], strict=True))
    return [row[:width] for row in found], first[width], totals


def report_rows(*, query: ReportQuery, chunk_size: int = 5000) -> Iterator[tuple]:
    """Every row, read through a server-side cursor `chunk_size` rows at a time: memory stays flat.

    Inside a transaction the cursor is a plain one, streaming as PostgreSQL produces the rows (outside
    one Django would declare it WITH HOLD, which makes PostgreSQL materialise the whole result first).
    """
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        with connection.cursor() as setting:
            setting.execute("SET LOCAL jit = off")
        cursor.execute(query.sql, query.params)
        while chunk := cursor.fetchmany(chunk_size):
            yield from query.finished(chunk)
