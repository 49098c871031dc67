"""Price lists and settlement agreements are edited here; files and settlements are read-only records."""

from django.contrib import admin

from ledger.admin import TenantScopedAdmin

from .models import AccountingFile, PriceItem, PriceList, Settlement, SettlementAgreement


class PriceItemInline(admin.TabularInline):
    model = PriceItem
    fields = ("kind", "event_kind", "document_kind", "channel", "unit_price")
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("client", "valid_from", "currency", "note")
    list_filter = ("currency",)
    inlines = [PriceItemInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.client_id is not None:
            return queryset.filter(client_id=request.user.client_id)
        return queryset if request.user.is_staff else queryset.none()


@admin.register(SettlementAgreement)
class SettlementAgreementAdmin(TenantScopedAdmin):
    list_display = ("ledger", "frequency", "bank_account", "fees_deducted", "claim_fees_ours", "ocr_report")


class ReadOnlyAdmin(TenantScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
