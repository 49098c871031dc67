"""Read-mostly admin: journal rows are append-only, so they are never editable here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    Account,
    Client,
    Customer,
    CustomerEvent,
    DirectDebitAttempt,
    Invoice,
    InvoiceEvent,
    JournalTransaction,
    Ledger,
    Payment,
    PaymentFile,
    Payout,
    Posting,
    User,
)
from .selectors import ledgers_for_user


class TenantScopedAdmin(admin.ModelAdmin):
    """Client users see only their client's ledgers' rows, here as everywhere."""

    ledger_path = "ledger"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.client_id is None and request.user.is_staff:
            return queryset  # our own staff, including rows of no ledger (a file for an unknown CompanyNo)
        return queryset.filter(**{f"{self.ledger_path}__in": ledgers_for_user(request.user)})


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Client", {"fields": ("client",)}),)
    list_display = ("username", "email", "client", "is_staff")


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "org_no", "created_at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(pk=request.user.client_id) if request.user.client_id else qs


class AccountInline(admin.TabularInline):
    model = Account
    extra = 0


@admin.register(Ledger)
class LedgerAdmin(TenantScopedAdmin):
    ledger_path = "pk"

    list_display = ("company_no", "ledger_no", "name", "country", "currency", "client")
    inlines = [AccountInline]


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ("customer_no", "name", "ledger", "legal_entity", "email")
    list_filter = ("ledger", "legal_entity")
    search_fields = ("customer_no", "name", "email")


class InvoiceEventInline(admin.TabularInline):
    model = InvoiceEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "from_status", "to_status", "booking_date", "actor", "reason", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(TenantScopedAdmin):
    list_display = ("invoice_no", "customer", "ledger", "amount", "due_date", "status", "payment_ref")
    list_filter = ("ledger", "status")
    search_fields = ("invoice_no", "payment_ref", "customer__name")
    readonly_fields = [f.name for f in Invoice._meta.fields]
    inlines = [InvoiceEventInline]


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    readonly_fields = ("account", "invoice", "component", "amount", "currency")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalTransaction)
class JournalTransactionAdmin(TenantScopedAdmin):
    list_display = ("id", "ledger", "booking_date", "kind", "cause", "description", "actor")
    list_filter = ("ledger", "kind")
    readonly_fields = [f.name for f in JournalTransaction._meta.fields]
    inlines = [PostingInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(TenantScopedAdmin):
    """Rows written only by services: visible to operators, never edited here."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "bank_archive_ref",
        "ledger",
        "amount",
        "currency",
        "payment_ref",
        "outcome",
        "status",
        "booking_date",
    )
    list_filter = ("ledger", "status", "outcome")
    search_fields = ("bank_archive_ref", "payment_ref", "payer_name")


@admin.register(PaymentFile)
class PaymentFileAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "ledger", "format", "status", "received_at")
    list_filter = ("ledger", "format", "status")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "ledger", "customer", "amount", "currency", "bank_account", "status", "created_at")
    list_filter = ("ledger", "status")


@admin.register(DirectDebitAttempt)
class DirectDebitAttemptAdmin(ReadOnlyAdmin):
    list_display = ("invoice", "ledger", "attempt_no", "amount", "due_date", "status")
    list_filter = ("ledger", "status")


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ("customer", "ledger", "kind", "booking_date", "actor", "reason")
    list_filter = ("ledger", "kind")
