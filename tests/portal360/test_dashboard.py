"""Reports > Dashboard: the page, its period filter, tenancy and the charts with their tables."""

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from tests.factories import CustomerFactory, InvoiceFactory
from tests.ledger.test_payments_import import book, ocr_file, pay

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 15)
URL = "/360/dashboard/"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
def booked(ledger, customer):
    a = InvoiceFactory(customer=customer, invoice_no="A", invoice_date=date(2026, 1, 5),
                       booking_date=date(2026, 1, 5), amount=Decimal("1000.00"))  # fmt: skip
    InvoiceFactory(customer=customer, invoice_no="B", invoice_date=date(2026, 3, 2),
                   booking_date=date(2026, 3, 2), amount=Decimal("2500.00"))  # fmt: skip
    book(ocr_file([pay(a.payment_ref, "1000.00", "000000001")], day=date(2026, 1, 12)))
    return ledger


def test_the_dashboard_draws_every_chart_with_its_table(signed_in, booked):
    response = signed_in.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Reports' in html  # section Reports
    for key in ("balances", "created", "payments", "paid", "dso", "channels", "returned"):
        assert f'id="chart-{key}"' in html
    assert html.count("<svg") == 7 and html.count('role="img"') == 7
    assert '<title id="balances-title">Open and overdue amount (NOK), at each month end</title>' in html
    assert "<script" not in html.split("<main", 1)[1]  # no chart script: pygal's links are off
    # 12 months by default, May 2025 to April 2026; the tables hold the figures in the ledger's locale
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>', html.split('id="chart-created"')[1].split("</table>")[0]
    )
    assert len(rows) == 12 and rows[0] == "May 2025" and rows[-1] == "Apr 2026"
    assert '<td class="num">2\xa0500,00</td>' in html  # B, invoiced in March (capital column)


def test_the_period_filter(signed_in, booked):
    response = signed_in.get(URL, {"months": "3", "end": "2026-02"})
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.period.months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert [p.open for p in figures.balances] == [Decimal(0), Decimal(0), Decimal(0)]  # A paid in Jan
    assert [m.count for m in figures.created] == [0, 1, 0]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"months": "0"}, "greater than or equal to 1"),
        ({"months": "37"}, "less than or equal to 36"),
        ({"months": "twelve"}, "Enter a whole number"),
        ({"end": "2026-13"}, "Give the month as YYYY-MM"),
        ({"end": "April"}, "Give the month as YYYY-MM"),
        ({"end": "2026-05"}, "cannot be after this month"),
    ],
)
def test_bad_period_input_is_the_forms_error(signed_in, ledger, params, error):
    response = signed_in.get(URL, params)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert "figures" not in response.context


def test_another_clients_ledger_is_a_404(signed_in, other_ledger):
    assert signed_in.get(URL, {"ledger": other_ledger.company_no}).status_code == 404
    assert signed_in.get(URL, {"ledger": "nope"}).status_code == 404


def test_the_chosen_ledger_and_another_of_the_clients_ledgers(signed_in, booked):
    from tests.factories import LedgerFactory

    second = LedgerFactory(company_no="7003", ledger_no="70031", country="SE", client_name="Fjord Kraft AS")
    CustomerFactory(ledger=second, customer_no="1")
    response = signed_in.get(URL, {"ledger": second.company_no})
    assert response.status_code == 200 and response.context["ledger"] == second
    assert "SEK" in response.content.decode()
    assert signed_in.get(URL).context["ledger"] == second  # kept for the session, as the switch does


def test_read_only_users_see_it_and_anonymous_ones_sign_in(client, reader, booked):
    from tests.helpers import sign_in

    assert client.get(URL).status_code == 302
    assert sign_in(client, reader).get(URL).status_code == 200
