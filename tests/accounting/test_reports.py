"""Reports as of a date agree with the journal: what was true on that date, scoped to the user's client."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from accounting.reports.catalogue import report_for_user
from accounting.reports.downloads import report_csv, report_xlsx
from accounting.reports.invoices import created_invoices
from accounting.reports.monthly import monthly_bookkeeping
from accounting.reports.payments import customer_credit_balances, unidentified_payments
from accounting.reports.receivables import (
    aging,
    invoice_claims,
    ledger_report,
    receivables_balance,
    write_offs,
)
from ledger.errors import LedgerError
from ledger.models import Cause
from ledger.services.invoice_changes import invoice_write_off
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tests.helpers import book_costs
from tests.ledger.test_payments_import import book, ledger_with_account, ocr_file, pay, stray_kid


@pytest.fixture
def ledger(db):
    """Kari: A 1000.00 due 19 Jan, B 400.00 due 3 Mar (fee 35.00 on A 1 Feb); Ola: C 250.00 due 1 Dec 2025.
    On 2 March Kari pays 600.00 on A, Ola pays 300.00 on C (50.00 surplus), and 99.90 comes in unidentified."""
    ledger = ledger_with_account()
    kari = CustomerFactory(ledger=ledger, customer_no="1001", name="Kari Nordmann")
    ola = CustomerFactory(ledger=ledger, customer_no="1002", name="Ola Nordmann")
    a = InvoiceFactory(
        customer=kari,
        invoice_no="A",
        amount=Decimal("1000.00"),
        invoice_date=date(2026, 1, 5),
        due_date=date(2026, 1, 19),
        booking_date=date(2026, 1, 5),
    )
    InvoiceFactory(
        customer=kari,
        invoice_no="B",
        amount=Decimal("400.00"),
        invoice_date=date(2026, 2, 17),
        due_date=date(2026, 3, 3),
        booking_date=date(2026, 2, 17),
    )
    c = InvoiceFactory(
        customer=ola,
        invoice_no="C",
        amount=Decimal("250.00"),
        invoice_date=date(2025, 11, 17),
        due_date=date(2025, 12, 1),
        booking_date=date(2025, 11, 17),
    )
    book_costs(a, fee=Decimal("35.00"), day=date(2026, 2, 1))
    ledger.settle_surplus_against_oldest = False
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    book(
        ocr_file(
            [
                pay(a.payment_ref, "600.00", "000000401"),
                pay(c.payment_ref, "300.00", "000000402"),
                pay(stray_kid(3), "99.90", "000000403"),
            ]
        )
    )
    return ledger


def as_dicts(report):
    return [dict(zip(report.columns, row, strict=True)) for row in report.rows]


def test_aging_as_of_two_dates(ledger):
    before = as_dicts(aging(ledger=ledger, as_of=date(2026, 3, 1)))
    assert [
        (r["customer_no"], r["not_due"], r["overdue_31_60"], r["overdue_over_180"], r["total"])
        for r in before
    ] == [
        (
            "1001",
            Decimal("400.00"),
            Decimal("1035.00"),
            Decimal("0.00"),
            Decimal("1435.00"),
        ),  # A 41 days overdue
        ("1002", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("250.00")),
    ]
    assert before[1]["overdue_61_90"] == Decimal("250.00")  # C 90 days overdue on 1 March

    after = as_dicts(aging(ledger=ledger, as_of=date(2026, 3, 4)))
    # Paid on 2 March: A's 600.00 went capital first; C is closed; B is one day overdue.
    assert [(r["customer_no"], r["overdue_1_30"], r["overdue_31_60"], r["total"]) for r in after] == [
        ("1001", Decimal("400.00"), Decimal("435.00"), Decimal("835.00")),
    ]
    [whole] = as_dicts(aging(ledger=ledger, as_of=date(2026, 3, 4), per_customer=False))
    assert whole["company_no"] == ledger.company_no and whole["total"] == Decimal("835.00")


def test_ledger_report_equals_the_receivable_accounts_on_every_date(ledger):
    for as_of in (
        date(2025, 11, 16),
        date(2025, 11, 17),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 3, 2),
    ):
        report = as_dicts(ledger_report(ledger=ledger, as_of=as_of))
        assert sum((r["open"] for r in report), Decimal("0.00")) == receivables_balance(
            ledger=ledger, as_of=as_of
        )
    on_feb_1 = as_dicts(ledger_report(ledger=ledger, as_of=date(2026, 2, 1)))
    assert [(r["invoice_no"], r["capital"], r["fees"], r["open"]) for r in on_feb_1] == [
        ("A", Decimal("1000.00"), Decimal("35.00"), Decimal("1035.00")),
        ("C", Decimal("250.00"), Decimal("0.00"), Decimal("250.00")),
    ]


def test_payments_reports_as_of_a_date(ledger):
    assert unidentified_payments(ledger=ledger, as_of=date(2026, 3, 1)).rows == []
    [row] = as_dicts(unidentified_payments(ledger=ledger, as_of=date(2026, 3, 2)))
    assert row["unallocated"] == Decimal("99.90")
    assert as_dicts(customer_credit_balances(ledger=ledger, as_of=date(2026, 3, 2))) == [
        {"customer_no": "1002", "customer_name": "Ola Nordmann", "credit_balance": Decimal("50.00")}
    ]


def test_write_offs_monthly_bookkeeping_created_invoices_and_claims(ledger):
    from ledger.models import Invoice

    b = Invoice.objects.get(ledger=ledger, invoice_no="B")
    invoice_write_off(
        invoice=b, actor="kari", reason="Bankrupt", cause=Cause.BANKRUPTCY, booking_date=date(2026, 3, 20)
    )
    [row] = as_dicts(write_offs(ledger=ledger, start=date(2026, 3, 1), end=date(2026, 3, 31)))
    assert (row["invoice_no"], row["cause"], row["capital"], row["total"]) == (
        "B",
        "Bankruptcy",
        Decimal("400.00"),
        Decimal("400.00"),
    )

    march = {
        r["account"]: r for r in as_dicts(monthly_bookkeeping(ledger=ledger, year=2026, month=3))
    }
    assert march["1920"]["debit"] == Decimal("999.90")
    assert march["7830"]["net"] == Decimal("400.00")
    assert sum(r["net"] for r in march.values()) == 0

    created = as_dicts(created_invoices(ledger=ledger, start=date(2026, 1, 1), end=date(2026, 2, 28)))
    assert [(r["booking_date"], r["invoices"], r["amount"]) for r in created] == [
        (date(2026, 1, 5), 1, Decimal("1000.00")),
        (date(2026, 2, 17), 1, Decimal("400.00")),
    ]
    claims = {
        r["invoice_no"]: r for r in as_dicts(invoice_claims(ledger=ledger, as_of=date(2026, 3, 4)))
    }
    assert claims["A"]["last_event"] == "partially_paid" and claims["A"]["last_event_date"] == date(
        2026, 3, 2
    )
    assert claims["B"]["last_event"] == "registered" and claims["B"]["status"] == "open"


def test_csv_and_xlsx_downloads(ledger):
    report = ledger_report(ledger=ledger, as_of=date(2026, 3, 4))
    text = report_csv(report).decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(report.columns)
    assert "A;1001;" in text and ";435.00" in text

    sheet = load_workbook(BytesIO(report_xlsx(report))).active
    values = list(sheet.values)
    assert list(values[0]) == report.columns
    assert values[1][0] == "A" and values[1][-1] == 435
    assert sheet.cell(row=2, column=9).number_format == "0.00"


def test_a_user_sees_only_their_own_clients_reports(ledger):
    own = UserFactory(client=ledger.client)
    stranger = UserFactory()
    report = report_for_user(
        user=own, company_no=ledger.company_no, name="aging", as_of=date(2026, 3, 4)
    )
    assert report.rows
    with pytest.raises(LedgerError) as error:
        report_for_user(
            user=stranger, company_no=ledger.company_no, name="aging", as_of=date(2026, 3, 4)
        )
    assert error.value.code == "ledger_not_found"
    with pytest.raises(LedgerError) as error:
        report_for_user(
            user=own, company_no=ledger.company_no, name="secrets", as_of=date(2026, 3, 4)
        )
    assert error.value.code == "unknown_report"


def test_invoice_claims_show_the_claim_level_and_the_next_step_as_of_a_date(db):
    from claims.services.escalation import claims_escalate
    from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(
        customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 1, 1), booking_date=date(2025, 1, 1)
    )
    for day in (date(2025, 1, 16), date(2025, 1, 18), date(2025, 2, 2)):  # late fee passed, SMS, notice
        claims_escalate(ledger=ledger, as_of=day)

    def row(as_of):
        return as_dicts(invoice_claims(ledger=ledger, as_of=as_of))[0]

    before = row(date(2025, 1, 10))
    assert (before["invoice_no"], before["claim_level"], before["next_step"]) == (
        invoice.invoice_no,
        "due_date",
        "late_fee",
    )
    after_sms = row(date(2025, 1, 20))
    assert (after_sms["claim_level"], after_sms["next_step"], after_sms["next_step_date"]) == (
        "sms_reminder", "collection_notice", date(2025, 2, 2),
    )  # fmt: skip
    after_notice = row(date(2025, 2, 10))
    # The notice's deadline is 16 February; the foreign hand-over is planned next (passed over for a
    # domestic customer on the day).
    assert (after_notice["claim_level"], after_notice["next_step"], after_notice["next_step_date"]) == (
        "collection_notice", "foreign_handover", date(2025, 2, 17),
    )  # fmt: skip


def test_invoice_claims_as_of_today_say_what_the_invoice_page_says(db):
    """One answer to "what happens next, and when": the report's row as of today is the claims engine's
    (a domestic customer skips the foreign hand-over; a private one gets no late fee; a stopped claim
    has no next step), never a day in the past."""
    import time_machine

    from claims.collection_stop import claim_collection_stop
    from claims.selectors import claim_status
    from claims.services.escalation import claims_escalate
    from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

    ledger = LedgerFactory(country="NO")
    first, second = (
        InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=date(2025, 1, 1),
                       booking_date=date(2025, 1, 1))  # fmt: skip
        for _ in range(2)
    )
    for day in (date(2025, 1, 16), date(2025, 1, 18), date(2025, 2, 2)):
        claims_escalate(ledger=ledger, as_of=day)
    with time_machine.travel("2025-02-10 10:00 +01:00", tick=False):
        today = ledger.today()
        rows = {r["invoice_no"]: r for r in as_dicts(invoice_claims(ledger=ledger, as_of=today))}
        for invoice in (first, second):
            page = claim_status(invoice=invoice)["next_event"]
            row = rows[invoice.invoice_no]
            assert (row["next_step"], row["next_step_date"]) == (page["kind"], date.fromisoformat(page["date"]))
            assert row["next_step"] != "foreign_handover" and row["next_step_date"] >= today
        # In collection later, then stopped: no next step, and no None in the row.
        for day in (date(2025, 2, 17), date(2025, 3, 5)):
            claims_escalate(ledger=ledger, as_of=day)
    with time_machine.travel("2025-03-06 10:00 +01:00", tick=False):
        claim_collection_stop(invoice=first, actor="test", reason="client asked")
        rows = {r["invoice_no"]: r for r in as_dicts(invoice_claims(ledger=ledger, as_of=ledger.today()))}
        assert (rows[first.invoice_no]["next_step"], rows[first.invoice_no]["next_step_date"]) == ("", None)
        assert claim_status(invoice=first)["next_event"] is None
