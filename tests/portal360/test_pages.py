"""The pages: start, search, customer, invoice, documents; languages and the ledger's number formats."""

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.base import ContentFile

from distribution.services.common import archive_storage
from ledger.models import ConsentKind, InvoiceStatus, Payment
from ledger.services.customers import customer_upsert
from ledger.services.respite_dispute import invoice_dispute_open
from portal360.models import News
from tests.factories import CustomerFactory, DocumentFactory, InvoiceFactory
from tests.helpers import book_costs


def test_start_shows_news_and_todays_figures_of_the_chosen_ledger(signed_in, ledger, customer, other_ledger):
    with time_machine.travel(date(2026, 3, 1)):
        overdue = InvoiceFactory(customer=customer, invoice_no="A-1", amount=Decimal("1234.50"),
                                 invoice_date=date(2026, 1, 5))  # fmt: skip
        book_costs(overdue, fee=Decimal("35.00"))
        InvoiceFactory(
            customer=customer, invoice_no="A-2", amount=Decimal("100.00"), invoice_date=date(2026, 2, 25)
        )
        News.objects.create(title="Nytt fra oss", body="Ny funksjon.")
        News.objects.create(title="Only for the other client", body="x", client=other_ledger.client)
        page = signed_in.get("/360/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Nytt fra oss" in text and "Only for the other client" not in text
    # Open: 1 234,50 + 35,00 + 100,00; overdue: the first only (due 19.01.2026); Norwegian formats.
    assert "1\xa0369,50\xa0NOK" in text
    assert "1\xa0269,50\xa0NOK" in text
    assert "01.03.2026" in text
    # Each figure opens what it counts.
    figures = re.findall(r'<a class="figure" href="([^"]+)"', text)
    assert figures == ["/360/services/?status=open", f"/360/l/{ledger.company_no}/reports/aging/",
                       f"/360/l/{ledger.company_no}/reports/invoice_claims/", "/360/worklists/unidentified/",
                       "/360/worklists/returned_mail/"]  # fmt: skip
    with time_machine.travel(date(2026, 3, 1)):
        assert all(signed_in.get(url).status_code == 200 for url in figures)


def test_search_by_every_key(signed_in, ledger, customer, invoice):
    business = CustomerFactory(ledger=ledger, customer_no="5002", name="Fjord Rør AS", national_id="923609016",
                               email="Faktura@FjordRor.no", legal_entity="business")  # fmt: skip
    for query, expected in [
        ("5001", b"Kari Nordmann"),
        ("kari", b"Kari Nordmann"),
        ("01019012345", b"Kari Nordmann"),
        ("kari@example.no", b"Kari Nordmann"),
        ("91234567", b"Kari Nordmann"),
        ("+47 912 34 567", b"Kari Nordmann"),
        ("F-1001", b"Kari Nordmann"),
        (invoice.payment_ref, b"Kari Nordmann"),
        ("923609016", b"Fjord R"),
        ("faktura@fjordror.no", b"Fjord R"),
        ("fjord", b"Fjord R"),
    ]:
        page = signed_in.get("/360/customers/", {"q": query})
        assert page.status_code == 200 and expected in page.content, query
    assert b"No customer or invoice matches" in signed_in.get("/360/customers/", {"q": "nobody"}).content
    # A person's national id is masked in the list; an organisation number is not.
    page = signed_in.get("/360/customers/", {"q": "Kari"}).content.decode()
    assert "01019012345" not in page and "2345" in page
    assert "923609016" in signed_in.get("/360/customers/", {"q": "fjord"}).content.decode()
    assert business.pk


def test_search_is_paginated_and_answers_htmx_with_the_results_only(signed_in, ledger):
    for n in range(30):
        CustomerFactory(ledger=ledger, customer_no=f"9{n:03}", name=f"Berg {n:02}")
    first = signed_in.get("/360/customers/", {"q": "berg"})
    assert first.content.count(b"Berg ") == 25 and b"page=2" in first.content
    second = signed_in.get("/360/customers/", {"q": "berg", "page": 2}, HTTP_HX_REQUEST="true")
    assert second.content.count(b"Berg ") == 5 and b"<html" not in second.content


def test_customer_page(signed_in, ledger, customer, invoice):
    customer_upsert(ledger=ledger, customer_no="5001", name="Kari Nordmann", email="kari@example.no",
                    national_id="01019012345", address_line1="Storgata 1", postal_code="0155", city="Oslo",
                    consents={ConsentKind.EINVOICE_B2C_NO: True}, actor="cusin")  # fmt: skip
    DocumentFactory(customer=customer, invoice=None, kind="debt_summary")
    page = signed_in.get(f"/360/l/{ledger.company_no}/customers/5001/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Kari Nordmann" in text and "Storgata 1" in text and "F-1001" in text
    assert "eFaktura (Norway)" in text and "Consent activated" in text
    assert "1\xa0000,00\xa0NOK" in text  # open amount
    assert "Debt summary" in text
    assert "01019012345" not in text  # masked


def test_protected_identity_hides_the_address(signed_in, ledger):
    CustomerFactory(ledger=ledger, customer_no="5009", name="Hidden Person", protected_identity=True,
                    address_line1="Secret street 9")  # fmt: skip
    text = signed_in.get(f"/360/l/{ledger.company_no}/customers/5009/").content.decode()
    assert "Secret street 9" not in text and "Protected identity" in text


def test_the_customer_page_costs_the_same_queries_for_many_invoices(
    signed_in, ledger, customer, django_assert_max_num_queries
):
    InvoiceFactory(customer=customer, invoice_no="Q-1")
    url = f"/360/l/{ledger.company_no}/customers/5001/"
    signed_in.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        signed_in.get(url)
    for n in range(2, 40):
        InvoiceFactory(customer=customer, invoice_no=f"Q-{n}")
    with CaptureQueriesContext(connection) as many:
        signed_in.get(url)
    assert len(many) == len(few)


def test_invoice_page_shows_amounts_interest_next_event_and_history(signed_in, ledger, customer):
    with time_machine.travel(date(2026, 1, 5)):
        invoice = InvoiceFactory(customer=customer, invoice_no="F-2001", amount=Decimal("1000.00"))
    with time_machine.travel(date(2026, 3, 2)):
        page = signed_in.get(f"/360/l/{ledger.company_no}/invoices/F-2001/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1\xa0000,00\xa0NOK" in text and invoice.payment_ref in text
    assert "Interest accrued to today (02.03.2026)" in text
    # The business day has not run since the due date: the friendly SMS (day 17) is due now.
    assert 'id="next-event">Next: <strong>Friendly reminder SMS</strong> on 02.03.2026' in text
    assert "Registered" in text


def test_invoice_numbers_with_a_slash_are_reachable(signed_in, ledger, customer):
    InvoiceFactory(customer=customer, invoice_no="2026/17")
    assert signed_in.get(f"/360/l/{ledger.company_no}/invoices/2026/17/").status_code == 200


def test_a_document_opens_as_pdf_and_downloads(signed_in, ledger, customer, invoice):
    document = DocumentFactory(customer=customer, invoice=invoice)
    archive_storage().save(document.archive_name, ContentFile(b"%PDF-1.4 test"))
    url = f"/360/l/{ledger.company_no}/invoice-document/{document.pk}/F-1001/"
    inline = signed_in.get(url)
    assert inline.status_code == 200 and inline["Content-Type"] == "application/pdf"
    assert inline.content == b"%PDF-1.4 test" and inline["Content-Disposition"].startswith("inline")
    assert signed_in.get(url + "?download=1")["Content-Disposition"].startswith("attachment")
    queued = DocumentFactory(customer=customer, invoice=invoice, status="queued", archive_name="")
    assert (
        signed_in.get(f"/360/l/{ledger.company_no}/invoice-document/{queued.pk}/F-1001/").status_code == 404
    )


def test_norwegian_language(signed_in, ledger, customer, invoice):
    signed_in.post("/360/language/", {"language": "nb", "next": "/360/"})
    page = signed_in.get(f"/360/l/{ledger.company_no}/invoices/F-1001/")
    text = page.content.decode()
    assert '<html lang="nb">' in text
    assert "Faktura" in text and "Kunder" in text and "Beløp" in text
    # The credit causes in words, not the Accounting Detail's codes ("Wrong Reg No").
    assert "Feil fødselsnummer eller organisasjonsnummer" in text and "Wrong Reg No" not in text


def test_a_swedish_ledger_shows_swedish_formats(client, other_ledger):
    from tests.factories import UserFactory
    from tests.helpers import sign_in

    sign_in(client, UserFactory(username="sven", client=other_ledger.client, email="sven@example.se"))
    customer = CustomerFactory(ledger=other_ledger, customer_no="77", name="Sven")
    with time_machine.travel(date(2026, 1, 5)):
        InvoiceFactory(customer=customer, invoice_no="S-1", amount=Decimal("12345.60"))
        text = client.get(f"/360/l/{other_ledger.company_no}/invoices/S-1/").content.decode()
    assert "12\xa0345,60\xa0SEK" in text and "2026-01-05" in text


@pytest.mark.parametrize("status", [InvoiceStatus.DISPUTED])
def test_the_actions_shown_follow_the_status(signed_in, ledger, invoice, status, reader, client):
    invoice_dispute_open(invoice=invoice, actor="test", reason="wrong amount")
    text = signed_in.get(f"/360/l/{ledger.company_no}/invoices/F-1001/").content.decode()
    assert "Resolve the dispute" in text and "Register respite" not in text


def test_read_only_users_see_no_actions_and_may_not_post(client, reader, ledger, invoice):
    from tests.helpers import sign_in

    sign_in(client, reader)
    text = client.get(f"/360/l/{ledger.company_no}/invoices/F-1001/").content.decode()
    assert "Register respite" not in text and "read only" in text
    answer = client.post(f"/360/l/{ledger.company_no}/invoice-action/dispute/F-1001/", {"reason": "x"})
    assert answer.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert Payment.objects.count() == 0


def test_services_lists_the_ledgers_invoices_by_status_and_level(signed_in, ledger, customer, invoice):
    from claims.models import Claim, StepKind

    second = InvoiceFactory(customer=customer, invoice_no="F-1002")
    Claim.objects.create(ledger=ledger, invoice=second, level=StepKind.REMINDER, position=1,
                         deadline=date(2026, 2, 1), next_on=date(2026, 2, 10))  # fmt: skip
    invoice_dispute_open(invoice=invoice, actor="t", reason="complaint")
    every = signed_in.get("/360/services/").content.decode()
    assert "F-1001" in every and "F-1002" in every
    disputed = signed_in.get("/360/services/", {"status": "disputed"}).content.decode()
    assert "F-1001" in disputed and "F-1002" not in disputed
    reminded = signed_in.get("/360/services/", {"level": "reminder"}, HTTP_HX_REQUEST="true").content.decode()
    assert "F-1002" in reminded and "F-1001" not in reminded and "<html" not in reminded
    assert signed_in.get("/360/services/", {"status": "bogus"}).status_code == 200


def test_the_invoice_page_names_another_payer(signed_in, ledger, customer):
    payer = CustomerFactory(ledger=ledger, customer_no="5009", name="Oslo kommune")
    InvoiceFactory(customer=customer, invoice_no="F-77", payer=payer)
    page = signed_in.get(f"/360/l/{ledger.company_no}/invoices/F-77/").content.decode()
    payer_part = re.search(r'<span id="payer">(.*?)</span>', page, re.S).group(1)
    assert "Oslo kommune (5009)" in payer_part and "/customers/5009/" in payer_part
