from decimal import Decimal

from django.test import Client

from distribution.links import portal_link_issue
from tests.factories import CustomerFactory
from tests.invoiceportal.conftest import make_invoice


def test_the_link_in_the_reminder_email_opens_the_invoice(reminded):
    invoice, token = reminded
    response = Client().get(f"/p/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Faktura {invoice.invoice_no}" in html
    assert "1\xa0035,00\xa0kr" in html  # capital 1 000 + reminder fee 35
    assert invoice.payment_ref in html and "1503 20 80003" in html  # the account as people write it
    # The deadline has passed (due 19.01.2026, today 20.02.2026): pay now, not "by" a day gone by.
    assert "nå: fristen er passert" in html and "innen 19.01.2026" not in html
    assert "Fjordkraft Demo AS" in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_protected_identity_shows_no_address(data_dir, ledger_no, today):
    customer = CustomerFactory(
        ledger=ledger_no,
        protected_identity=True,
        address_line1="Hemmelig vei 9",
        postal_code="0999",
        city="Oslo",
    )
    invoice = make_invoice(ledger_no, customer=customer)
    token = portal_link_issue(ledger_id=ledger_no.pk, customer_id=customer.pk, invoice_id=invoice.pk)
    html = Client().get(f"/p/{token}/").content.decode()
    assert invoice.invoice_no in html
    assert "Hemmelig vei 9" not in html and "0999" not in html


def test_business_customers_see_their_org_number(data_dir, ledger_no, today):
    customer = CustomerFactory(
        ledger=ledger_no, legal_entity="business", name="Fjord Rør AS", national_id="923609016"
    )
    invoice = make_invoice(ledger_no, customer=customer)
    token = portal_link_issue(ledger_id=ledger_no.pk, customer_id=customer.pk, invoice_id=invoice.pk)
    html = Client().get(f"/p/{token}/").content.decode()
    assert "Org.nr. 923609016" in html


def test_a_swedish_customer_gets_swedish_and_swedish_formats_and_can_switch(db, data_dir, today):
    from tests.factories import LedgerFactory

    ledger = LedgerFactory(country="SE", client_funds_account="9912346")
    customer = CustomerFactory(ledger=ledger, country="SE")
    invoice = make_invoice(ledger, customer=customer, amount="12345.50")
    token = portal_link_issue(ledger_id=ledger.pk, customer_id=customer.pk, invoice_id=invoice.pk)
    response = Client().get(f"/p/{token}/")
    html = response.content.decode()
    assert 'lang="sv"' in html and "Att betala" in html and "Betala nu med Swish" in html
    assert "12\xa0345,50\xa0kr" in html and invoice.due_date.isoformat() in html
    client = Client()
    english = client.get(f"/p/{token}/?lang=da").content.decode()
    assert 'lang="da"' in english and "At betale" in english
    assert 'lang="da"' in client.get(f"/p/{token}/").content.decode()  # remembered


def test_amounts_and_dates_in_the_ledgers_format():
    from datetime import date

    from invoiceportal.templatetags.portal_format import day, format_amount

    assert format_amount(Decimal("1234.5"), "NO", "NOK") == "1\xa0234,50\xa0kr"
    assert format_amount(Decimal("1234567.891"), "DK", "DKK") == "1.234.567,89\xa0kr."
    assert format_amount(Decimal("-35"), "SE", "SEK") == "\u221235,00\xa0kr"
    assert day(date(2026, 12, 4), "NO") == "04.12.2026"
    assert day(date(2026, 12, 4), "SE") == "2026-12-04"


def test_charged_fees_are_shown_as_parts_of_the_open_fees_not_beside_them(reminded):
    import re

    from claims.models import Claim, ClaimEvent, StepKind

    invoice, token = reminded
    claim = Claim.objects.create(ledger=invoice.ledger, invoice=invoice, level=StepKind.REMINDER, position=2,
                                 deadline=invoice.due_date, next_on=None, reminder_fees=Decimal("35.00"))  # fmt: skip
    ClaimEvent.objects.create(ledger=invoice.ledger, claim=claim, invoice=invoice, kind="step", position=2,
                              step_kind=StepKind.REMINDER, fee=Decimal("35.00"), booking_date=invoice.due_date,
                              actor="system:claims")  # fmt: skip
    html = Client().get(f"/p/{token}/").content.decode()
    rows = re.findall(r'<tr( class="\w+")?><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', html)
    labels = [(cls.strip(), label) for cls, label, _ in rows]
    assert ('class="part"', "herav purregebyr") in labels
    fees = [label for _, label in labels].index("Gebyrer ubetalt")
    assert [label for _, label in labels][fees + 1] == "herav purregebyr"
