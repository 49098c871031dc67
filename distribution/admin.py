from django.contrib import admin

from ledger.admin import ClientScopedAdmin, ReadOnlyAdmin

from .models import ClientDocumentProfile, Document, DocumentEvent, PrintBatch, ReturnedDocument


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("id", "ledger", "kind", "status", "channel", "route", "booking_date", "sent_at")
    list_filter = ("kind", "status", "channel")
    search_fields = ("source_key", "customer__customer_no", "invoice__invoice_no")


@admin.register(DocumentEvent)
class DocumentEventAdmin(ReadOnlyAdmin):
    ledger_path = "document__ledger"
    list_display = ("document", "from_status", "to_status", "channel", "attempt_no", "actor", "created_at")


@admin.register(PrintBatch)
class PrintBatchAdmin(ReadOnlyAdmin):
    list_display = ("folder", "ledger", "batch_date", "count", "pages")


@admin.register(ReturnedDocument)
class ReturnedDocumentAdmin(ReadOnlyAdmin):
    list_display = ("document", "kind", "status", "booking_date", "reason")
    list_filter = ("kind", "status")


@admin.register(ClientDocumentProfile)
class ClientDocumentProfileAdmin(ClientScopedAdmin):
    list_display = ("client", "retention_years")
    exclude = ("logo",)
