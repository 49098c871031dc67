"""Price lists and settlement agreements are edited here; files and settlements are read-only records."""

from django.contrib import admin

from ledger.admin import ClientScopedAdmin, ReadOnlyAdmin, TenantScopedAdmin

from .models import AccountingFile, PriceItem, PriceList, Settlement, SettlementAgreement


class PriceItemInline(admin.TabularInline):
    model = PriceItem
    fields = ("kind", "event_kind", "document_kind", "channel", "unit_price")
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(ClientScopedAdmin):
    list_display = ("client", "valid_from", "currency", "note")
    list_filter = ("currency",)
    inlines = [PriceItemInline]


@admin.register(SettlementAgreement)
class SettlementAgreementAdmin(TenantScopedAdmin):
    list_display = ("ledger", "frequency", "bank_account", "fees_deducted", "claim_fees_ours", "ocr_report")


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = (
        "ledger",
        "period_start",
        "period_end",
        "booking_date",
        "payout",
        "service_fees",
        "currency",
    )
    list_filter = ("booking_date",)


@admin.register(AccountingFile)
class AccountingFileAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "ledger", "kind", "as_of", "sequence", "records", "created_at")
    list_filter = ("kind", "as_of")
