"""The distribution run end to end: real PDFs (text extracted), the archive, e-mail, SMS files, e-invoice
records, EHF, the print batch; failures recorded; nothing sent twice."""

import csv
import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from lxml import etree
from pypdf import PdfReader

from distribution.models import (
    Channel,
    ClientDocumentProfile,
    Document,
    DocumentEvent,
    DocumentStatus,
    PaperRoute,
    PrintBatch,
)
from distribution.selectors import document_pdf
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.sending import documents_distribute
from invoiceportal.selectors import portal_link_resolve
from ledger.models import ConsentKind, CustomerConsent, LegalEntity
from tests.distribution.conftest import make_invoice, pdf_text
from tests.factories import CustomerFactory, LedgerFactory
from tests.helpers import book_costs

DAY = date(2026, 2, 20)
NOTICE_FACTS = {
    "step": "collection_notice",
    "fee": "35.00",
    "deadline": "2026-03-06",
    "interest_rate": "12.25",
    "interest_from": "2026-01-20",
}


def queue(invoice=None, *, kind="reminder", key=None, customer=None, facts=None, day=DAY):
    customer = customer or invoice.customer
    documents_queue(
        requests=[
            DocumentRequest(
                ledger_id=customer.ledger_id,
                customer_id=customer.id,
                invoice_id=invoice.id if invoice is not None else None,
                kind=kind,
                booking_date=day,
                source_key=key or f"{kind}:{invoice.id if invoice else customer.id}",
                facts=facts or {},
            )
        ]
    )
    return Document.objects.get(
        ledger_id=customer.ledger_id, source_key=key or f"{kind}:{invoice.id if invoice else customer.id}"
    )


def test_payment_demand_on_paper_with_principal_costs_rate_and_reference(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, email="kari@example.no", name="Kari Nordmann")
    invoice = make_invoice(ledger_no, customer=customer, amount="1000.00")
    book_costs(invoice, fee=Decimal("35.00"), interest=Decimal("4.10"))
    document = queue(invoice, kind="payment_demand", facts=NOTICE_FACTS)

    summary = documents_distribute(as_of=DAY)

    document.refresh_from_db()
    assert (document.status, document.channel, document.route) == ("sent", "paper", "legal_address")
    assert summary["by_status"] == {"awaiting_print": 1}
    assert summary["by_channel"] == {"paper": 1} and summary["errors"] == []
    text = pdf_text(document_pdf(document=document))
    assert "Betalingsoppfordring" in text
    assert "Hovedstol 1 000,00" in text
    assert "Kostnader (gebyrer og renter) 39,10" in text
    assert "Å betale 1 039,10" in text
    assert "Forsinkelsesrente: 12,25 % · Renter beregnes fra 20.01.2026" in text
    assert f"KID {invoice.payment_ref}" in text
    assert "Kontonummer 15032080003" in text
    assert "Betalingsfrist 06.03.2026" in text
    assert "administreres av PayEx Norge AS" in text and "rettes til Fjordkraft Demo AS" in text
    # Archived once with its checksum and retention; the print batch holds the same bytes.
    archived = (data_dir / "documents" / document.archive_name).read_bytes()
    assert hashlib.sha256(archived).hexdigest() == document.checksum
    assert document.retention_until == date(2036, 2, 20)
    batch = PrintBatch.objects.get()
    folder = data_dir / batch.folder
    rows = list(csv.DictReader((folder / "manifest.csv").open()))
    assert [(r["document_id"], r["name"], r["line1"], r["route"], r["pages"]) for r in rows] == [
        (str(document.pk), "Kari Nordmann", "Storgata 1", "legal_address", "1")
    ]
    assert (folder / rows[0]["file"]).read_bytes() == archived
    # One PDF for the printer with every letter of the batch, where the manifest says it starts.
    combined = PdfReader(folder / "batch.pdf")
    assert len(combined.pages) == 1 and rows[0]["first_page"] == "1"
    assert f"KID {invoice.payment_ref}" in combined.pages[0].extract_text()
    assert batch.folder == f"distribution/print/{ledger_no.company_no}/2026-02-20-001"


def test_reminder_by_email_with_portal_link_and_pdf_for_business(db, data_dir, ledger_no):
    private = CustomerFactory(ledger=ledger_no, email="kari@example.no")
    business = CustomerFactory(ledger=ledger_no, email="ap@firma.no", legal_entity=LegalEntity.BUSINESS)
    a, b = make_invoice(ledger_no, customer=private), make_invoice(ledger_no, customer=business)
    for invoice in (a, b):
        book_costs(invoice, fee=Decimal("35.00"))
        queue(invoice, facts=NOTICE_FACTS)

    documents_distribute(as_of=DAY)

    assert len(mail.outbox) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    to_private, to_business = by_to["kari@example.no"], by_to["ap@firma.no"]
    assert to_private.subject == f"Purring {a.invoice_no} fra Fjordkraft Demo AS"
    assert "Å betale: 1 035,00 NOK" in to_private.body and f"KID: {a.payment_ref}" in to_private.body
    assert to_private.attachments == []
    link = next(line for line in to_private.body.splitlines() if "https://portal.example.test/p/" in line)
    token = link.split("/p/")[1].rstrip("/")
    doc_a = Document.objects.get(invoice=a)
    opened = portal_link_resolve(token=token)
    assert (opened.ledger_id, opened.customer_id, opened.invoice_id, opened.document_id) == (
        ledger_no.id,
        private.id,
        a.id,
        doc_a.id,
    )
    [(name, content, mimetype)] = to_business.attachments
    assert mimetype == "application/pdf" and name.endswith(".pdf")
    assert "Å betale 1 035,00" in pdf_text(content)
    assert (
        to_business.extra_headers["Message-ID"]
        == f"<document-{Document.objects.get(invoice=b).pk}@localhost>"
    )
    assert set(Document.objects.values_list("status", "channel")) == {("sent", "email")}
    event = DocumentEvent.objects.get(document=doc_a, to_status="sent")
    assert (event.attempt_no, event.channel, event.detail["to"]) == (1, "email", "kari@example.no")


@pytest.mark.parametrize(
    "country, language, title, label",
    [
        ("SE", "sv", "Påminnelse", "Att betala"),
        ("DK", "da", "Rykker", "At betale"),
        ("DE", "en", "Reminder", "Amount due"),
    ],
)
def test_language_follows_the_customer_and_admin_text_the_ledger(
    db, data_dir, country, language, title, label
):
    ledger = LedgerFactory(country="SE", client_name="Svensk Kund AB")
    customer = CustomerFactory(ledger=ledger, country=country, email="")
    invoice = make_invoice(ledger, customer=customer, amount="250.00")
    document = queue(invoice)
    documents_distribute(as_of=DAY, ledger=ledger)
    document.refresh_from_db()
    assert document.language == language
    text = pdf_text(document_pdf(document=document))
    assert title in text and label in text
    assert "administreras av PayEx Sverige AB" in text and "ställas till Svensk Kund AB" in text
    assert invoice.payment_ref in text


def test_every_kind_renders_with_its_amounts(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, email="")
    first = make_invoice(ledger_no, customer=customer, amount="1000.00", invoice_no="A-1")
    second = make_invoice(ledger_no, customer=customer, amount="500.00", invoice_no="A-2")
    book_costs(first, fee=Decimal("35.00"), interest=Decimal("12.50"))
    expected = {
        "reminder": ["Purring", "Å betale 1 047,50"],
        "collection_notice": ["Inkassovarsel", "Gebyr for dette varselet: 35,00 NOK"],
        "legal_notice": ["Varsel om rettslige skritt", "Å betale 1 047,50"],
        "cost_claim": ["Kostnadskrav", "Gebyrer 35,00", "Renter 12,50", "Å betale 47,50"],
        "late_fee_notice": ["Krav om kompensasjon", "Å betale 1 047,50"],
        "invoice": ["Faktura", "A-1"],
    }
    for kind in expected:
        queue(first, kind=kind, facts=NOTICE_FACTS)
    summary_doc = queue(None, customer=customer, kind="debt_summary", key="summary")
    payout_doc = queue(
        None,
        customer=customer,
        kind="payout_notice",
        key="payout",
        facts={"amount": "120.00", "account": "12345678903"},
    )
    result = documents_distribute(as_of=DAY)
    assert result["errors"] == []
    for kind, snippets in expected.items():
        text = pdf_text(document_pdf(document=Document.objects.get(invoice=first, kind=kind)))
        for snippet in snippets:
            assert snippet in text, (kind, snippet, text)
    summary_text = pdf_text(document_pdf(document=Document.objects.get(pk=summary_doc.pk)))
    assert "A-1" in summary_text and "A-2" in summary_text and second.payment_ref in summary_text
    assert "Å betale (NOK) 1 547,50" in summary_text
    payout_text = pdf_text(document_pdf(document=Document.objects.get(pk=payout_doc.pk)))
    assert "Utbetalt beløp 120,00 NOK" in payout_text and "12345678903" in payout_text


def test_company_name_with_quotes_and_brackets_in_the_page_footer(db, data_dir):
    ledger = LedgerFactory(country="NO", client_name='Berg & "Sønner" <AS>')
    document = queue(make_invoice(ledger, customer=CustomerFactory(ledger=ledger, email="")))
    documents_distribute(as_of=DAY)
    text = pdf_text(document_pdf(document=Document.objects.get(pk=document.pk)))
    assert 'Berg & "Sønner" <AS> · Purring · 1' in text


def test_invoice_with_print_blocks_and_logo(db, data_dir, ledger_no):
    import base64

    # A 1x1 PNG: the logo is embedded, so the PDF carries an image.
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    ClientDocumentProfile.objects.create(client=ledger_no.client, logo=png, logo_content_type="image/png")
    blocks = [
        {
            "table_type": "Standard",
            "head": {"1": "Beskrivelse", "2": "Antall", "3": "Sum"},
            "rows": [
                {"1": "Strøm januar", "2": "812 kWh", "3": "800,00"},
                {"1": "Nettleie", "2": "1", "3": "200,00"},
            ],
        }
    ]
    invoice = make_invoice(ledger_no, print_blocks=blocks, reference_text="Strøm og nett")
    document = queue(invoice, kind="invoice")
    documents_distribute(as_of=DAY)
    pdf = document_pdf(document=Document.objects.get(pk=document.pk))
    text = pdf_text(pdf)
    assert "Strøm januar 812 kWh 800,00" in text and "Nettleie 1 200,00" in text
    assert "Strøm og nett" in text
    assert b"/Image" in pdf


def test_sms_reminder_to_the_file_gateway(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, phone="+4791234567")
    invoice = make_invoice(ledger_no, customer=customer)
    document = queue(invoice, kind="sms_reminder")
    documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.channel) == ("sent", "sms")
    message = json.loads((data_dir / "sms" / f"document-{document.pk}.json").read_text())
    assert message["to"] == "+4791234567"
    assert f"faktura {invoice.invoice_no}, 1 000,00 NOK forfalt 19.01.2026" in message["text"]
    assert "https://portal.example.test/p/" in message["text"]


def test_efaktura_record_and_ehf_invoice_in_the_outbox(db, data_dir, ledger_no):
    ledger_no.client.org_no, ledger_no.client.vat_registered = "923609016", True  # its VAT id goes in the EHF
    ledger_no.client.save(update_fields=["org_no", "vat_registered"])
    consumer = CustomerFactory(ledger=ledger_no, national_id="01017012345")
    CustomerConsent.objects.create(
        ledger=ledger_no, customer=consumer, kind=ConsentKind.EINVOICE_B2C_NO, changed_on=date(2026, 1, 1)
    )
    company = CustomerFactory(
        ledger=ledger_no,
        legal_entity=LegalEntity.BUSINESS,
        distribution_type="EInvoiceB2B",
        edi_van="PEPPOL",
        edi_buyer_id="987654321",
        edi_seller_id="912345678",
    )
    b2c = make_invoice(ledger_no, customer=consumer)
    b2b = make_invoice(
        ledger_no,
        customer=company,
        amount="1250.00",
        amount_excl_vat=Decimal("1000.00"),
        vat_amount=Decimal("250.00"),
    )
    queue(b2c, kind="invoice")
    queue(b2b, kind="invoice")
    documents_distribute(as_of=DAY)

    efaktura = Document.objects.get(invoice=b2c)
    assert (efaktura.status, efaktura.channel) == ("sent", "einvoice_b2c")
    [record_path] = (data_dir / "distribution" / "efaktura_no" / ledger_no.company_no / "2026-02-20").glob(
        "*.json"
    )
    record = json.loads(record_path.read_text())
    assert record["national_id"] == "01017012345" and record["payment_ref"] == b2c.payment_ref
    assert record["amount_due"] == "1000.00" and record["pdf_sha256"] == efaktura.checksum

    ehf = Document.objects.get(invoice=b2b)
    assert (ehf.status, ehf.channel) == ("sent", "einvoice_b2b")
    [xml_path] = (data_dir / "distribution" / "ehf" / ledger_no.company_no / "PEPPOL" / "2026-02-20").glob(
        "*.xml"
    )
    root = etree.parse(str(xml_path)).getroot()
    ns = {
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    }
    assert root.findtext("cbc:PayableAmount", namespaces=ns) is None
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns) == "1250.00"
    assert root.findtext("cac:PaymentMeans/cbc:PaymentID", namespaces=ns) == b2b.payment_ref
    assert root.findtext("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", namespaces=ns) == "987654321"


def test_b2b_without_edi_ids_records_the_error_and_prints_to_the_billing_address(db, data_dir, ledger_no):
    company = CustomerFactory(
        ledger=ledger_no,
        legal_entity=LegalEntity.BUSINESS,
        distribution_type="EInvoiceB2B",
        edi_van="PEPPOL",
        billing_address={"line1": "Fakturamottak", "postal_code": "0102", "city": "Oslo"},
    )
    document = queue(make_invoice(ledger_no, customer=company), kind="invoice")
    documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.channel, document.route) == ("sent", "paper", "billing_address")
    assert document.channel_error == "EInvoiceB2B needs EDIInfo Buyer id, Seller id: missing"
    assert document.address["line1"] == "Fakturamottak"


def test_archive_only_is_archived_and_not_sent(db, data_dir, ledger_no):
    customer = CustomerFactory(ledger=ledger_no, email="kari@example.no", distribution_type="NoDistribution")
    document = queue(make_invoice(ledger_no, customer=customer), kind="invoice")
    documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.channel, document.sent_at) == ("archived", "archive_only", None)
    assert document.archive_name and mail.outbox == []


def test_protected_identity_letter_goes_by_skatteverket(db, data_dir):
    ledger = LedgerFactory(country="SE")
    customer = CustomerFactory(
        ledger=ledger, country="SE", protected_identity=True, national_id="198112289874", email=""
    )
    document = queue(make_invoice(ledger, customer=customer))
    documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.route) == ("sent", PaperRoute.PROTECTED_IDENTITY)
    rows = list(csv.DictReader((data_dir / PrintBatch.objects.get().folder / "manifest.csv").open()))
    assert (rows[0]["national_id"], rows[0]["line1"]) == ("198112289874", "")


def test_a_failing_document_is_recorded_and_the_rest_go_on(db, data_dir, ledger_no, settings):
    homeless = CustomerFactory(ledger=ledger_no, email="", address_line1="", city="", postal_code="")
    fine = CustomerFactory(ledger=ledger_no, email="ok@example.no")
    bad_doc = queue(make_invoice(ledger_no, customer=homeless))
    good_doc = queue(make_invoice(ledger_no, customer=fine))
    summary = documents_distribute(as_of=DAY)
    bad_doc.refresh_from_db()
    good_doc.refresh_from_db()
    assert (good_doc.status, bad_doc.status) == ("sent", "failed")
    assert bad_doc.last_error == "no_postal_address: no postal address"
    assert summary["errors"] == [{"document": bad_doc.pk, "kind": "reminder", "error": bad_doc.last_error}]
    assert summary["by_status"] == {"failed": 1, "sent": 1}
    failure = DocumentEvent.objects.get(document=bad_doc, to_status="failed")
    assert (failure.attempt_no, failure.detail) == (1, {"code": "no_postal_address", "permanent": True})


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_send_failure_is_retried_in_the_next_run_with_the_archived_pdf(db, data_dir, ledger_no, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    document = queue(
        make_invoice(ledger_no, customer=CustomerFactory(ledger=ledger_no, email="k@example.no"))
    )
    first = documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.attempts) == ("retry", 1)
    assert "smtp down" in first["errors"][0]["error"]
    archived_checksum = document.checksum
    # The same run does not pick it up again; the next run does (the next business day's), and sends
    # what was archived: it left the queue that day, which the settlement charges it for.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    documents_distribute(as_of=DAY + timedelta(days=1))
    document.refresh_from_db()
    assert (document.status, document.attempts, document.checksum) == ("sent", 2, archived_checksum)
    assert (document.booking_date, document.distributed_on) == (DAY, DAY + timedelta(days=1))
    assert len(mail.outbox) == 1
    assert list(
        DocumentEvent.objects.filter(document=document, attempt_no__isnull=False)
        .values_list("attempt_no", "to_status")
        .order_by("attempt_no")
    ) == [(1, "retry"), (2, "sent")]


def test_three_failures_leave_it_failed(db, data_dir, ledger_no, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    document = queue(
        make_invoice(ledger_no, customer=CustomerFactory(ledger=ledger_no, email="k@example.no"))
    )
    for _ in range(4):
        documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.attempts) == ("failed", 3)


def test_running_the_day_twice_sends_nothing_twice(db, data_dir, ledger_no):
    email_customer = CustomerFactory(ledger=ledger_no, email="kari@example.no")
    paper_customer = CustomerFactory(ledger=ledger_no, email="")
    queue(make_invoice(ledger_no, customer=email_customer))
    queue(make_invoice(ledger_no, customer=paper_customer))
    first = documents_distribute(as_of=DAY)
    second = documents_distribute(as_of=DAY)
    assert first["documents"] == 2 and first["print_batches"][0]["documents"] == 1
    assert second == {**second, "documents": 0, "print_batches": [], "errors": []}
    assert len(mail.outbox) == 1 and PrintBatch.objects.count() == 1
    assert DocumentEvent.objects.filter(to_status="sent").count() == 2


def test_documents_of_a_later_day_wait(db, data_dir, ledger_no):
    document = queue(make_invoice(ledger_no), day=date(2026, 2, 21))
    assert documents_distribute(as_of=DAY)["documents"] == 0
    document.refresh_from_db()
    assert document.status == DocumentStatus.QUEUED
    assert documents_distribute(as_of=date(2026, 2, 21))["documents"] == 1


def test_only_the_given_ledger_is_distributed(db, data_dir, ledger_no):
    other = LedgerFactory(country="SE")
    mine = queue(make_invoice(ledger_no))
    theirs = queue(make_invoice(other))
    documents_distribute(as_of=DAY, ledger=ledger_no)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("sent", "queued")
    assert Channel.PAPER == mine.channel


def test_a_reminder_for_an_invoice_settled_meanwhile_is_not_sent(db, data_dir, ledger_no):
    from ledger.services.invoice_changes import invoice_credit

    customer = CustomerFactory(ledger=ledger_no, email="kari@example.no")
    settled = make_invoice(ledger_no, customer=customer, invoice_no="S-1")
    still_open = make_invoice(ledger_no, customer=customer, invoice_no="S-2")
    queue(settled)
    queue(still_open)
    summary_doc = queue(None, customer=customer, kind="debt_summary", key="summary")
    invoice_credit(invoice=settled, actor="test", booking_date=DAY, reason="sold by mistake")
    summary = documents_distribute(as_of=DAY)
    assert summary["by_status"] == {"cancelled": 1, "sent": 2}
    cancelled = Document.objects.get(invoice=settled)
    assert (cancelled.status, cancelled.archive_name) == ("cancelled", "")
    assert len(mail.outbox) == 2
    # The debt summary lists what is still open, nothing else.
    text = pdf_text(document_pdf(document=Document.objects.get(pk=summary_doc.pk)))
    assert "S-2" in text and "S-1" not in text


def test_a_paper_letter_that_failed_once_is_printed_as_its_second_attempt(
    db, data_dir, ledger_no, monkeypatch
):
    from distribution.services import sending as services  # what distribution runs with

    real_render = services.document_render
    calls = []

    def flaky_render(document, **kwargs):
        calls.append(document.pk)
        if len(calls) == 1:
            raise OSError("disk full")
        return real_render(document, **kwargs)

    monkeypatch.setattr(services, "document_render", flaky_render)
    document = queue(make_invoice(ledger_no, customer=CustomerFactory(ledger=ledger_no, email="")))
    first = documents_distribute(as_of=DAY)
    assert first["errors"][0]["error"] == "OSError: disk full"
    document.refresh_from_db()
    assert (document.status, document.attempts, document.archive_name) == ("retry", 1, "")
    documents_distribute(as_of=DAY)
    document.refresh_from_db()
    assert (document.status, document.attempts) == ("sent", 2)
    assert list(
        DocumentEvent.objects.filter(document=document, attempt_no__isnull=False)
        .order_by("attempt_no")
        .values_list("attempt_no", "to_status")
    ) == [(1, "retry"), (2, "sent")]


def test_a_payout_notice_by_email_says_what_was_paid_out_not_what_to_pay(db, data_dir):
    ledger = LedgerFactory(country="SE", client_name="Nordkraft AB")
    customer = CustomerFactory(ledger=ledger, country="SE", email="sven@example.se", phone="+46701234567")
    queue(None, customer=customer, kind="payout_notice", key="payout",
          facts={"amount": "120.00", "account": "5000-1234560"})  # fmt: skip
    assert documents_distribute(as_of=DAY)["errors"] == []
    [message] = mail.outbox
    assert message.subject.startswith("Meddelande om utbetalning")
    assert "Utbetalt belopp: 120,00 SEK" in message.body and "Till konto: 5000-1234560" in message.body
    assert "Se dokumentet här" in message.body
    for invoice_words in ("Att betala", "Betala senast", "OCR", "betala här"):
        assert invoice_words not in message.body, invoice_words
