"""Money in and out: unidentified payments, credit balances, settlements, payouts, payment files."""

from datetime import date

from accounting.reports.core import Report, ReportQuery, _fetch
from ledger.models import Ledger


def unidentified_payments(*, ledger: Ledger, as_of: date) -> Report:
    """Payments with money on suspense on `as_of`, and how much."""
    rows = _fetch(
        """SELECT pay.bank_archive_ref, pay.booking_date, pay.payment_ref, pay.payer_name, pay.amount,
                  -sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'suspense'
             JOIN ledger_payment pay ON pay.id = p.payment_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY pay.id HAVING sum(p.amount) <> 0
            ORDER BY pay.booking_date, pay.bank_archive_ref""",
        [ledger.id, as_of],
    )
    columns = ["bank_archive_ref", "booking_date", "payment_ref", "payer_name", "amount", "unallocated"]
    return Report(
        "unidentified_payments", f"Unidentified payments {ledger.company_no} as of {as_of}", columns, rows
    )


def customer_credit_balances(*, ledger: Ledger, as_of: date) -> Report:
    """Customers with a credit balance (surplus we hold for them) on `as_of`."""
    rows = _fetch(
        """SELECT c.customer_no, c.name, -sum(p.amount)
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
             JOIN ledger_customer c ON c.id = p.customer_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY c.customer_no, c.name HAVING sum(p.amount) <> 0
            ORDER BY c.customer_no""",
        [ledger.id, as_of],
    )
    return Report(
        "customer_credit_balances",
        f"Customer credit balances {ledger.company_no} as of {as_of}",
        ["customer_no", "customer_name", "credit_balance"],
        rows,
    )


def settlements_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    """The Balance Reports whose period ended in [start, end]: what was collected, kept and paid out."""
    return ReportQuery(
        "settlements",
        f"Settlements {ledger.company_no} {start}..{end}",
        [
            "period_start",
            "period_end",
            "booking_date",
            "collected_capital",
            "collected_interest",
            "collected_fees",
            "retained_fees",
            "retained_interest",
            "client_share",
            "brought_forward",
            "service_fees",
            "payout",
            "carried_forward",
            "balance_report_file",
            "balance_report_pdf",
            "payment_file",
            "ocr_file",
        ],  # fmt: skip
        """SELECT period_start, period_end, booking_date, collected_capital, collected_interest,
                  collected_fees, retained_fees, retained_interest, client_share, brought_forward,
                  service_fees, payout, carried_forward, balance_report_file, balance_report_pdf,
                  payment_file, ocr_file, id
             FROM accounting_settlement
            WHERE ledger_id = %s AND period_end BETWEEN %s AND %s
            ORDER BY period_end, id""",
        [ledger.id, start, end],
        keyset=(1, 17),  # period_end, id
        hidden_columns=1,
        money_columns=(
            "collected_capital",
            "collected_interest",
            "collected_fees",
            "retained_fees",
            "retained_interest",
            "client_share",
            "service_fees",
            "payout",
        ),  # fmt: skip
    )


def payouts_query(*, ledger: Ledger, start: date, end: date, customer_no: str = "") -> ReportQuery:
    """Refunds to customers and payers booked in [start, end], with the pain.001 file that sent them."""
    where, extra = (" AND c.customer_no = %s", [customer_no]) if customer_no else ("", [])
    return ReportQuery(
        "payouts",
        f"Payouts {ledger.company_no} {start}..{end}",
        [
            "booking_date",
            "customer_no",
            "payment_ref",
            "amount",
            "bank_account",
            "status",
            "reason",
            "file_name",
        ],  # fmt: skip
        f"""SELECT t.booking_date, coalesce(c.customer_no, ''), coalesce(pay.payment_ref, ''), po.amount,
                  po.bank_account, po.status, po.reason, coalesce(b.file_name, ''), po.id
             FROM ledger_payout po
             JOIN ledger_journaltransaction t ON t.id = po.transaction_id
             LEFT JOIN ledger_customer c ON c.id = po.customer_id
             LEFT JOIN ledger_payment pay ON pay.id = po.payment_id
             LEFT JOIN ledger_payoutbatch b ON b.id = po.batch_id
            WHERE po.ledger_id = %s AND t.booking_date BETWEEN %s AND %s{where}
            ORDER BY t.booking_date, po.id""",
        [ledger.id, start, end, *extra],
        money_columns=("amount",),
        keyset=(0, 8),  # booking_date, id
        hidden_columns=1,
    )


def payment_files_query(*, ledger: Ledger, start: date, end: date) -> ReportQuery:
    """The OCR/payment-file report: each bank file read in [start, end] (the ledger's business days),
    its payments and what became of them (matched, still unidentified, refunded, ...)."""
    return ReportQuery(
        "payment_files",
        f"Payment files {ledger.company_no} {start}..{end}",
        [
            "received",
            "file_name",
            "format",
            "status",
            "payments",
            "amount",
            "allocated",
            "unidentified",
            "refunded",
            "reversed",
            "moved",
        ],  # fmt: skip
        """SELECT (f.received_at AT TIME ZONE l.time_zone)::date, f.file_name, f.format, f.status,
                  count(pay.id), coalesce(sum(pay.amount), 0),
                  count(pay.id) FILTER (WHERE pay.status = 'allocated'),
                  count(pay.id) FILTER (WHERE pay.status = 'unidentified'),
                  count(pay.id) FILTER (WHERE pay.status = 'refunded'),
                  count(pay.id) FILTER (WHERE pay.status = 'reversed'),
                  count(pay.id) FILTER (WHERE pay.status = 'moved'), f.received_at, f.id
             FROM ledger_paymentfile f
             JOIN ledger_ledger l ON l.id = f.ledger_id
             LEFT JOIN ledger_payment pay ON pay.file_id = f.id
            WHERE f.ledger_id = %s
              AND (f.received_at AT TIME ZONE l.time_zone)::date BETWEEN %s AND %s
            GROUP BY f.id, l.time_zone
            ORDER BY f.received_at, f.id""",
        [ledger.id, start, end],
        money_columns=("amount",),
        keyset=(11, 12),  # received_at, id
        hidden_columns=2,
    )


def _unidentified_payments_query(*, ledger: Ledger, as_of: date) -> ReportQuery:
    return ReportQuery(
        "unidentified_payments",
        f"Unidentified payments {ledger.company_no} as of {as_of}",
        ["bank_archive_ref", "booking_date", "payment_ref", "payer_name", "amount", "unallocated"],
        """SELECT pay.bank_archive_ref, pay.booking_date, pay.payment_ref, pay.payer_name, pay.amount,
                  -sum(p.amount), pay.id
             FROM ledger_posting p
             JOIN ledger_journaltransaction t ON t.id = p.transaction_id
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'suspense'
             JOIN ledger_payment pay ON pay.id = p.payment_id
            WHERE p.ledger_id = %s AND t.booking_date <= %s
            GROUP BY pay.id HAVING sum(p.amount) <> 0
            ORDER BY pay.booking_date, pay.bank_archive_ref, pay.id""",
        [ledger.id, as_of],
        money_columns=("amount", "unallocated"),
        keyset=(1, 0, 6),  # booking_date, bank_archive_ref, id
        hidden_columns=1,
    )


def debits_awaiting_money_query(*, ledger: Ledger, as_of: date) -> ReportQuery:
    """Direct debits the bank reported approved and we booked from its result file, whose money had not
    come in a payment file by `as_of`: what the bank owes the client-funds account, oldest first."""
    return ReportQuery(
        "debits_awaiting_money",
        f"Direct debits awaiting their money {ledger.company_no} as of {as_of}",
        ["settled_on", "due_date", "invoice_no", "customer_no", "customer_name", "bank_archive_ref", "amount",
         "days_waiting"],
        """SELECT a.settled_on, a.due_date, i.invoice_no, cu.customer_no, cu.name, pay.bank_archive_ref, a.amount,
                  %s::date - a.settled_on, a.id
             FROM ledger_directdebitattempt a
             JOIN ledger_invoice i ON i.id = a.invoice_id
             JOIN ledger_customer cu ON cu.id = a.customer_id
             JOIN ledger_payment pay ON pay.id = a.payment_id
            WHERE a.ledger_id = %s AND a.payment_id IS NOT NULL AND a.settled_on <= %s
              AND (a.reconciled_on IS NULL OR a.reconciled_on > %s)
            ORDER BY a.settled_on, a.id""",
        [as_of, ledger.id, as_of, as_of],
        money_columns=("amount",),
        keyset=(0, 8),  # settled_on, id
        hidden_columns=1,
    )  # fmt: skip
