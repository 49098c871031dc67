"""CUSIN 2.1 invoice attachments: a PDF in <Attachments> is kept with its invoice and its pages follow the
invoice document's; a bad one (not a PDF, encrypted, not base64, too many) is that invoice's error
(InvalidAttachment), and the rest of the file books as ever."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from cusin.services import cusin_import
from distribution.models import Document
from distribution.selectors import document_pdf
from distribution.services.sending import documents_distribute
from ledger.models import Invoice, InvoiceAttachment
from tests.cusin.test_import_cusin import customer, invoice, write
from tests.distribution.test_attachments import a_pdf, encrypted_pdf
from tests.distribution.test_documents_distribute import queue
from tests.factories import LedgerFactory

DAY = date(2026, 1, 15)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "archive")}}}  # fmt: skip
    return tmp_path


@pytest.fixture
def ledger(db):
    return LedgerFactory(company_no="7777", country="NO")


def test_an_attachment_in_the_file_is_kept_and_follows_the_invoice(ledger, tmp_path):
    path = write(tmp_path, [customer("1", invoice("A-1", attachments=[("terms.pdf", a_pdf("Terms", pages=2))]),
                                     invoice("A-2"))], version="2.1")  # fmt: skip

    receipt = cusin_import(path=path, booking_date=DAY)

    assert receipt["status"] == "accepted" and receipt["invoices"] == 2, receipt["errors"]
    invoice_a1 = Invoice.objects.get(ledger=ledger, invoice_no="A-1")
    [attachment] = InvoiceAttachment.objects.filter(invoice=invoice_a1)
    assert (attachment.file_name, attachment.pages, attachment.actor) == ("terms.pdf", 2, "cusin")
    assert not InvoiceAttachment.objects.filter(invoice__invoice_no="A-2").exists()
    queue(invoice_a1, kind="invoice", day=DAY)
    documents_distribute(as_of=DAY)
    archived = PdfReader(io.BytesIO(document_pdf(document=Document.objects.get(invoice=invoice_a1))))
    assert "Terms page 2" in archived.pages[-1].extract_text()


@pytest.mark.parametrize(
    ("attachments", "says"),
    [
        ([("cv.doc", b"\xd0\xcf\x11\xe0 a Word file")], "is not a PDF"),
        ([("secret.pdf", None)], "is encrypted"),
        ([(f"p{n}.pdf", b"") for n in range(6)], "6 attachments; at most 5"),
    ],
)
def test_a_bad_attachment_is_its_invoices_error_and_the_rest_books(ledger, tmp_path, attachments, says):
    attachments = [(name, encrypted_pdf() if content is None else content or a_pdf(name))
                   for name, content in attachments]  # fmt: skip
    path = write(tmp_path, [customer("1", invoice("B-1", attachments=attachments), invoice("B-2"))], version="2.1")

    receipt = cusin_import(path=path, booking_date=DAY)

    assert receipt["status"] == "partially_accepted"
    [error] = receipt["errors"]
    assert error["code"] == "InvalidAttachment" and says in error["message"]
    assert list(Invoice.objects.filter(ledger=ledger).values_list("invoice_no", flat=True)) == ["B-2"]
    assert not InvoiceAttachment.objects.exists()
