from django.contrib import admin

from distribution.models import PortalLink
from ledger.admin import ReadOnlyAdmin, TenantScopedAdmin

from .models import DirectDebitSignup, PortalSettings, ProviderPayment, RespiteRequest


@admin.register(PortalSettings)
class PortalSettingsAdmin(TenantScopedAdmin):
    list_display = ("ledger", "respite_auto_days", "respite_max_days", "contact_email", "contact_phone")


@admin.register(PortalLink)
class PortalLinkAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ledger",
        "customer",
        "invoice",
        "document",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    exclude = ("token_hash",)


@admin.register(RespiteRequest)
class RespiteRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "ledger", "invoice", "customer", "days", "until", "status", "created_at")
    list_filter = ("status",)


@admin.register(ProviderPayment)
class ProviderPaymentAdmin(ReadOnlyAdmin):
    list_display = ("provider_ref", "ledger", "invoice", "method", "amount", "status", "created_at")


@admin.register(DirectDebitSignup)
class DirectDebitSignupAdmin(ReadOnlyAdmin):
    list_display = ("id", "ledger", "kind", "customer", "status", "created_at", "completed_at")
    exclude = ("state",)
