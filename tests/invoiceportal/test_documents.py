from django.test import Client
from pypdf import PdfReader

from distribution.links import token_hash
from distribution.models import PortalLink


def test_the_reminder_pdf_opens_inline_and_downloads(reminded):
    invoice, token = reminded
    document = PortalLink.objects.get(token_hash=token_hash(token)).document
    page = Client().get(f"/p/{token}/").content.decode()
    assert f"/p/{token}/documents/{document.pk}/pdf/" in page
    inline = Client().get(f"/p/{token}/documents/{document.pk}/pdf/")
    assert inline.status_code == 200 and inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"] == f'inline; filename="reminder-{invoice.invoice_no}.pdf"'
    assert inline["Referrer-Policy"] == "no-referrer"
    download = Client().get(f"/p/{token}/documents/{document.pk}/pdf/?download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    import io

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(download.content)).pages)
    assert invoice.payment_ref in text


def test_unknown_or_unarchived_documents_are_not_found(reminded):
    _, token = reminded
    response = Client().get(f"/p/{token}/documents/999999/pdf/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
