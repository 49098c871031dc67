"""REST API of documents, under /api/v1/ledgers/<company_no>/ (see payex_ledger/urls.py).

An invoice's documents and their archived PDFs, and a customer's debt summary as PDF. Views are thin:
the invoice or customer comes from the ledger's tenant-scoped selectors (the ledger from the token's
scope, api/views.py), so a token never reaches another client's documents.
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.renderers import PdfRenderer
from api.views import LedgerApiView
from distribution.models import Channel, DocumentKind, DocumentStatus, PaperRoute
from distribution.selectors import archived_document_pdf, invoice_document_get, invoice_documents
from distribution.senders import pdf_file_name
from distribution.services.attachments import invoice_attachment_add
from distribution.services.on_request import debt_summary_on_request
from ledger.errors import ValidationFailed
from ledger.selectors import customer_get, invoice_find

PDF = "application/pdf"
PDF_RESPONSE = {(200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="the archived PDF")}


def pdf_response(document, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type=PDF)
    response["Content-Disposition"] = f'inline; filename="{pdf_file_name(document)}"'
    response["Content-Length"] = str(len(pdf))
    return response


class DocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    channel = serializers.ChoiceField(
        choices=Channel.choices, allow_blank=True, help_text="empty until it is distributed"
    )
    route = serializers.ChoiceField(
        choices=PaperRoute.choices, allow_blank=True, help_text="which address a paper letter went to"
    )
    channel_reason = serializers.CharField(source="reason", help_text="why this channel")
    error = serializers.CharField(help_text="why the channel or sending failed, if it did")
    address = serializers.DictField(help_text="the address used: postal, e-mail or phone number")
    booking_date = serializers.DateField()
    created_at = serializers.DateTimeField(source="created")
    sent_at = serializers.DateTimeField(allow_null=True)
    checksum = serializers.CharField(help_text="SHA-256 of the archived PDF; empty until archived")
    pages = serializers.IntegerField(allow_null=True)
    resend_of = serializers.IntegerField(allow_null=True, help_text="the returned document this re-sends")
    pdf_url = serializers.URLField(allow_null=True, help_text="the archived PDF; null until archived")

    class Meta:
        ref_name = "InvoiceDocument"


class InvoiceDocumentsView(LedgerApiView):
    class Output(serializers.Serializer):
        results = DocumentOutput(many=True, help_text="oldest first")

        class Meta:
            ref_name = "InvoiceDocumentList"

    @extend_schema(operation_id="invoices_documents", responses={200: Output})
    def get(self, request, company_no, invoice_no):
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        rows = invoice_documents(invoice=invoice)
        for row in rows:
            archived = bool(row["archive"])
            row["pdf_url"] = (
                request.build_absolute_uri(f"{request.path}{row['id']}/pdf/") if archived else None
            )
        return Response(self.Output({"results": rows}).data)


class InvoiceDocumentPdfView(LedgerApiView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(operation_id="invoices_documents_pdf", responses=PDF_RESPONSE)
    def get(self, request, company_no, invoice_no, document_id):
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        document = invoice_document_get(invoice=invoice, document_id=document_id)
        return pdf_response(document, archived_document_pdf(document=document))


class AttachmentOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="the order its pages follow the invoice's in")
    file_name = serializers.CharField()
    size = serializers.IntegerField(help_text="bytes")
    pages = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "InvoiceAttachment"


class InvoiceAttachmentsView(LedgerApiView):
    parser_classes = [MultiPartParser]

    def max_upload_bytes(self) -> int | None:
        return settings.INVOICE_ATTACHMENT_MAX_BYTES if self.request.method == "POST" else None

    class Input(serializers.Serializer):
        file = serializers.FileField(help_text="a PDF; its pages follow the invoice document's")

        class Meta:
            ref_name = "InvoiceAttachmentInput"

    class Output(serializers.Serializer):
        results = AttachmentOutput(many=True)

        class Meta:
            ref_name = "InvoiceAttachmentList"

    @extend_schema(operation_id="invoices_attachments", responses={200: Output})
    def get(self, request, company_no, invoice_no):
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        return Response(self.Output({"results": invoice.attachments.order_by("position")}).data)

    @extend_schema(
        operation_id="invoices_attachments_add",
        request={"multipart/form-data": Input},
        responses={201: AttachmentOutput},
        description="A PDF to follow the invoice document (its pages after the invoice's, in every channel "
        "that carries the PDF). Before the invoice document is rendered; the same file again is the same "
        "attachment. Refused with a coded problem: attachment_too_large, attachment_not_pdf, "
        "attachment_encrypted, attachment_empty, too_many_attachments, attachment_too_late.",
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no, invoice_no):
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed("send the PDF as the multipart field `file`", field="file")
        if upload.size > settings.INVOICE_ATTACHMENT_MAX_BYTES:  # refused before it is read
            raise ValidationFailed(
                f"attachment {upload.name!r}: has {upload.size} bytes; at most "
                f"{settings.INVOICE_ATTACHMENT_MAX_BYTES} are accepted",
                code="attachment_too_large", field="file",
            )  # fmt: skip
        attachment = invoice_attachment_add(invoice=invoice, file_name=upload.name, content=upload.read(),
                                            actor=self.actor)  # fmt: skip
        return Response(AttachmentOutput(attachment).data, status=201)


class CustomerDebtSummaryView(LedgerApiView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="customers_debt_summary",
        description="A debt summary (all the customer's open invoices) as PDF, rendered and archived on the "
        "first request of the ledger's business day and the same PDF on every later one that day. "
        "It is archived only, never sent to the customer.",
        responses=PDF_RESPONSE,
    )
    def get(self, request, company_no, customer_no):
        customer = customer_get(ledger=self.ledger, customer_no=customer_no)
        document = debt_summary_on_request(
            customer=customer, booking_date=self.ledger.today(), actor=self.actor
        )
        return pdf_response(document, archived_document_pdf(document=document))


LEDGER = "ledgers/<str:company_no>/"
INVOICE = LEDGER + "invoices/<path:invoice_no>/"  # a number may hold a slash (api/endpoints/ledger.py)
CUSTOMER = LEDGER + "customers/<str:customer_no>/"

urlpatterns = [
    path(INVOICE + "documents/", InvoiceDocumentsView.as_view(), name="api-invoice-documents"),
    path(
        INVOICE + "documents/<int:document_id>/pdf/",
        InvoiceDocumentPdfView.as_view(),
        name="api-invoice-document-pdf",
    ),
    path(INVOICE + "attachments/", InvoiceAttachmentsView.as_view(), name="api-invoice-attachments"),
    path(CUSTOMER + "debt-summary/", CustomerDebtSummaryView.as_view(), name="api-customer-debt-summary"),
]
