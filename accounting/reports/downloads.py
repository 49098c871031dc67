"""Reports as CSV and XLSX (streamed, whatever the size) and the monthly accounting PDF."""

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from accounting.reports.core import Report, ReportQuery, report_rows, report_run, report_totals
from accounting.reports.monthly import monthly_accounting_query, monthly_reconciliation
from ledger.models import Ledger

# --- Downloads ------------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


class _Line:
    """A file-like csv.writer target that hands back what was written since the last call."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> bytes:
        text, self.parts = "".join(self.parts), []
        return text.encode("utf-8")


def _csv_writer(out):
    return csv.writer(out, delimiter=";", lineterminator="\r\n")


def report_csv(report: Report) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs read the æøå right), semicolon-separated, CR LF."""
    out = io.StringIO()
    writer = _csv_writer(out)
    writer.writerow(report.columns)
    writer.writerows([_cell(v) for v in row] for row in report.rows)
    return out.getvalue().encode("utf-8-sig")


def report_csv_chunks(*, query: ReportQuery, rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """The same CSV as `report_csv`, produced piece by piece from the server-side cursor."""
    return csv_chunks(columns=query.columns, rows=report_rows(query=query), rows_per_chunk=rows_per_chunk)


def csv_chunks(*, columns: list[str], rows, rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """A CSV as report_csv writes one (BOM, `;`, CR LF), in pieces of `rows_per_chunk` rows from any
    iterable of rows, for a streaming response with flat memory."""
    line = _Line()
    writer = _csv_writer(line)
    writer.writerow(columns)
    yield b"\xef\xbb\xbf" + line.take()
    batch = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        batch += 1
        if batch == rows_per_chunk:
            yield line.take()
            batch = 0
    if batch:
        yield line.take()


def _xlsx_write(name: str, columns: list[str], rows, out) -> None:
    """One sheet: the columns, then the rows; amounts as numbers with two decimals, dates as dates.
    openpyxl's write-only mode keeps nothing of a written row in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(name[:31])
    sheet.append(columns)

    def cell(value):
        if isinstance(value, Decimal):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "0.00"
        elif isinstance(value, date):
            value = WriteOnlyCell(sheet, value=value)
            value.number_format = "yyyy-mm-dd"
        return value

    for row in rows:
        sheet.append([cell(v) for v in row])
    workbook.save(out)


def report_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    _xlsx_write(report.name, report.columns, report.rows, out)
    return out.getvalue()


def report_xlsx_file(*, query: ReportQuery):
    """The report as an XLSX in an anonymous temporary file (rewound), written row by row from the
    server-side cursor: the download is then streamed from disk with its exact length."""
    out = tempfile.TemporaryFile()
    _xlsx_write(query.name, query.columns, report_rows(query=query), out)
    out.seek(0)
    return out


def monthly_accounting_pdf(*, ledger: Ledger, year: int, month: int) -> bytes:
    """The monthly accounting report as PDF (WeasyPrint): per account and action, the totals, and the
    reconciliation with the Accounting Detail files and the Balance Reports."""
    from django.template.loader import render_to_string
    from weasyprint import HTML  # imported here: loading it is slow and only this needs it

    query = monthly_accounting_query(ledger=ledger, year=year, month=month)
    html = render_to_string(
        "accounting/monthly_report.html",
        {
            "ledger": ledger,
            "year": year,
            "month": f"{month:02d}",
            "report": report_run(query),
            "totals": report_totals(query=query),
            "reconciliation": monthly_reconciliation(ledger=ledger, year=year, month=month),
        },
    )
    return HTML(string=html).write_pdf()
