"""Invoice attachments (seeds 002): a PDF sent with an invoice over the API follows the invoice document's
pages in its archived PDF, and so in the e-mail; whatever is not a whole, readable, unencrypted PDF within
the limits is refused with a coded problem naming the file, and nothing is kept."""

import io
from datetime import date

import pytest
from django.core import mail
from pypdf import PdfReader, PdfWriter

from distribution.models import Document
from distribution.selectors import document_pdf
from distribution.services.sending import documents_distribute
from ledger.models import InvoiceAttachment, LegalEntity
from tests.api.conftest import assert_problem, client_with, token_for
from tests.distribution.conftest import make_invoice
from tests.distribution.test_documents_distribute import queue
from tests.factories import CustomerFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in

DAY = date(2026, 2, 20)


def a_pdf(text: str, pages: int = 1) -> bytes:
    """A real PDF of `pages` pages, the first saying `text` (weasyprint, as our documents are made)."""
    from weasyprint import HTML

    body = "".join(f"<p style='page-break-after: always'>{text} page {n}</p>" for n in range(1, pages + 1))
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def post(api, ledger, invoice, content: bytes, name="terms.pdf"):
    upload = io.BytesIO(content)
    upload.name = name
    return api.post(f"/api/v1/ledgers/{ledger.company_no}/invoices/{invoice.invoice_no}/attachments/",
                    {"file": upload}, format="multipart")  # fmt: skip


@pytest.fixture
def api(ledger_no):
    return client_with(token_for(ledger_no, write=True))


def test_an_attachment_follows_the_invoice_in_the_archived_pdf_and_the_email(data_dir, ledger_no, api):
    """A business customer's e-mail carries the PDF (a private customer's the portal link to the same)."""
    business = CustomerFactory(ledger=ledger_no, email="faktura@firma.no", legal_entity=LegalEntity.BUSINESS)
    invoice = make_invoice(ledger_no, customer=business)
    answer = post(api, ledger_no, invoice, a_pdf("Terms and conditions", pages=2))
    assert answer.status_code == 201, answer.content
    assert (answer.json()["position"], answer.json()["pages"]) == (1, 2)
    assert post(api, ledger_no, invoice, a_pdf("Terms and conditions", pages=2)).json()["position"] == 1  # same file
    queue(invoice, kind="invoice")

    documents_distribute(as_of=DAY)

    document = Document.objects.get(invoice=invoice, kind="invoice")
    archived = PdfReader(io.BytesIO(document_pdf(document=document)))
    own_pages = len(archived.pages) - 2
    assert own_pages >= 1 and document.pages == own_pages + 2
    assert "Terms and conditions page 1" in archived.pages[own_pages].extract_text()
    assert "Terms and conditions page 2" in archived.pages[own_pages + 1].extract_text()
    [email] = mail.outbox
    [(_, sent_pdf, _)] = email.attachments
    assert len(PdfReader(io.BytesIO(sent_pdf)).pages) == own_pages + 2
    listed = api.get(f"/api/v1/ledgers/{ledger_no.company_no}/invoices/{invoice.invoice_no}/attachments/")
    assert [a["file_name"] for a in listed.json()["results"]] == ["terms.pdf"]


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(a_pdf("secret")))
    writer.encrypt("password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"GIF89a not a pdf", "attachment_not_pdf"),
        (b"%PDF-1.7\n%broken beyond reading\n%%EOF", "attachment_not_pdf"),
        (None, "attachment_encrypted"),
        (b"", "attachment_empty"),
        (b"%PDF-" + b"x" * 2048, "attachment_too_large"),
    ],
)
def test_what_is_not_a_whole_readable_pdf_is_refused_and_nothing_kept(data_dir, ledger_no, api, settings,
                                                                        content, code):  # fmt: skip
    settings.INVOICE_ATTACHMENT_MAX_BYTES = 1024
    invoice = make_invoice(ledger_no)
    content = encrypted_pdf() if content is None else content
    if code != "attachment_too_large":
        settings.INVOICE_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    problem = assert_problem(post(api, ledger_no, invoice, content, name="bad.pdf"), 422, code, "file")
    assert "bad.pdf" in problem["detail"]
    assert not InvoiceAttachment.objects.exists()


def test_too_many_and_too_late_are_refused(data_dir, ledger_no, api, settings):
    settings.INVOICE_ATTACHMENTS_MAX = 1
    invoice = make_invoice(ledger_no, customer=CustomerFactory(ledger=ledger_no, email="kari@example.no"))
    assert post(api, ledger_no, invoice, a_pdf("one")).status_code == 201
    assert_problem(post(api, ledger_no, invoice, a_pdf("two")), 422, "too_many_attachments", "file")
    settings.INVOICE_ATTACHMENTS_MAX = 5
    queue(invoice, kind="invoice")
    documents_distribute(as_of=DAY)
    assert_problem(post(api, ledger_no, invoice, a_pdf("three")), 409, "attachment_too_late")
    assert InvoiceAttachment.objects.count() == 1


def test_another_clients_token_neither_adds_nor_sees_them(data_dir, ledger_no):
    invoice = make_invoice(ledger_no)
    other = client_with(token_for(LedgerFactory(), write=True))
    answer = post(other, ledger_no, invoice, a_pdf("x"))
    assert answer.status_code == 404
    assert not InvoiceAttachment.objects.exists()


def test_360_lists_the_attachments_on_the_invoice_page(data_dir, ledger_no, api, client):
    invoice = make_invoice(ledger_no)
    post(api, ledger_no, invoice, a_pdf("Price list", pages=3), name="prices.pdf")
    sign_in(client, UserFactory(client=ledger_no.client))
    page = client.get(f"/360/l/{ledger_no.company_no}/invoices/{invoice.invoice_no}/").content.decode()
    assert "prices.pdf" in page and 'id="attachments"' in page


def test_an_attachment_over_the_limit_is_refused_by_its_length_before_it_is_read(data_dir, ledger_no, api, settings):
    settings.INVOICE_ATTACHMENT_MAX_BYTES = 1024
    invoice = make_invoice(ledger_no)
    problem = assert_problem(post(api, ledger_no, invoice, b"%PDF-" + b"x" * 200_000), 413, "upload_too_large")
    assert "at most 1024" in problem["detail"] and not InvoiceAttachment.objects.exists()
