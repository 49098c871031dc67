"""The month: bookkeeping by account, the accounting query, and the day-by-day reconciliation, all read
from the journal summed per day, account and action (ledger.models.AccountDay, which verify_ledger checks
against the journal): a month costs its few thousand summary rows, not its postings."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from accounting.reports.core import Report, ReportQuery, _fetch
from ledger.models import Ledger


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first and the last day of the month."""
    start = date(year, month, 1)
    return start, date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def monthly_bookkeeping(*, ledger: Ledger, year: int, month: int) -> Report:
    """Per account: debit, credit and net of the month (the month's SIE4 vouchers added up)."""
    start, end = month_bounds(year, month)
    rows = _fetch(
        """SELECT a.number, a.name, sum(d.debit), -sum(d.credit), sum(d.debit) - sum(d.credit)
             FROM ledger_accountday d
             JOIN ledger_account a ON a.id = d.account_id
            WHERE d.ledger_id = %s AND d.booking_date BETWEEN %s AND %s
            GROUP BY a.number, a.name
            ORDER BY a.number""",
        [ledger.id, start, end],
    )
    return Report(
        "monthly_bookkeeping",
        f"Bookkeeping {ledger.company_no} {year}-{month:02d}",
        ["account", "account_name", "debit", "credit", "net"],
        rows,
    )


def monthly_accounting_query(*, ledger: Ledger, year: int, month: int) -> ReportQuery:
    """Per book account and accounting action (as the Accounting Detail names them: a reversal after
    what it reverses, e.g. payment_reversal): postings, debit, credit and net of the month."""
    start, end = month_bounds(year, month)
    return ReportQuery(
        "monthly_accounting",
        f"Monthly accounting report {ledger.company_no} {year}-{month:02d}",
        ["account", "account_name", "action", "postings", "debit", "credit", "net"],
        # the journal per day, account and action kept beside it (ledger.models.AccountDay): a row per
        # day, account and action read, not every posting of the month
        """SELECT a.number, a.name, d.action, sum(d.postings)::bigint, sum(d.debit), sum(d.credit),
                  sum(d.debit) - sum(d.credit)
             FROM ledger_accountday d
             JOIN ledger_account a ON a.id = d.account_id
            WHERE d.ledger_id = %s AND d.booking_date BETWEEN %s AND %s
            GROUP BY a.number, a.name, d.action
            ORDER BY a.number, d.action""",
        [ledger.id, start, end],
        money_columns=("debit", "credit", "net"),
        keyset=(0, 2),  # account, action
    )


@dataclass(frozen=True)
class DayReconciliation:
    booking_date: date
    postings: int  # in the journal now
    file_name: str  # the day's latest Accounting Detail (CSV), "" when none was written
    file_records: int | None

    @property
    def agrees(self) -> bool:
        return self.file_records == self.postings


@dataclass(frozen=True)
class MonthReconciliation:
    days: list[DayReconciliation]
    settlements: list  # accounting.models.Settlement booked in the month (their Balance Reports)
    # settlement id -> what its transaction took from the client-funds bank account (= its payout)
    paid_from_bank: dict[int, Decimal]

    def settlement_agrees(self, settlement) -> bool:
        return self.paid_from_bank.get(settlement.id, Decimal("0.00")) == settlement.payout

    @property
    def settlement_rows(self) -> list[tuple]:
        """(settlement, paid from the bank in the journal, whether that is the Balance Report's payout)"""
        return [
            (s, self.paid_from_bank.get(s.id, Decimal("0.00")), self.settlement_agrees(s))
            for s in self.settlements
        ]

    @property
    def agrees(self) -> bool:
        return all(day.agrees for day in self.days) and all(map(self.settlement_agrees, self.settlements))


def monthly_reconciliation(*, ledger: Ledger, year: int, month: int) -> MonthReconciliation:
    """What the monthly report is checked against: per booking day, the journal's postings and the
    records of that day's latest Accounting Detail file; the Balance Reports (settlements) booked in
    the month, whose transactions are the report's `settlement` rows."""
    from accounting.models import AccountingFile, AccountingFileKind, Settlement

    start, end = month_bounds(year, month)
    postings = dict(
        _fetch(
            """SELECT booking_date, sum(postings)::bigint FROM ledger_accountday
                WHERE ledger_id = %s AND booking_date BETWEEN %s AND %s
                GROUP BY booking_date""",
            [ledger.id, start, end],
        )
    )
    files = {}
    for record in AccountingFile.objects.filter(
        ledger=ledger, kind=AccountingFileKind.ACCOUNTING_DETAIL_CSV, as_of__range=(start, end)
    ).order_by("as_of", "sequence"):
        files[record.as_of] = record  # the latest sequence of the day wins
    days = [
        DayReconciliation(
            booking_date=day,
            postings=postings.get(day, 0),
            file_name=files[day].file_name if day in files else "",
            file_records=files[day].records if day in files else None,
        )
        for day in sorted(set(postings) | set(files))
    ]
    settlements = list(
        Settlement.objects.filter(ledger=ledger, booking_date__range=(start, end)).order_by("booking_date")
    )
    net = dict(
        _fetch(
            # Both client-funds accounts: the collection account's transfer nets out, the payout remains.
            """SELECT s.id, -coalesce(sum(p.amount) FILTER (WHERE a.role IN ('client_funds_bank',
                                                                          'collection_funds_bank')), 0)
                 FROM accounting_settlement s
                 JOIN ledger_posting p ON p.transaction_id = s.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE s.ledger_id = %s AND s.booking_date BETWEEN %s AND %s
                GROUP BY s.id""",
            [ledger.id, start, end],
        )
    )
    return MonthReconciliation(days=days, settlements=settlements, paid_from_bank=net)
