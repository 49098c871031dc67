"""Read-mostly admin: journal rows are append-only, so they are never editable here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    Account,
    Client,
    Customer,
    Invoice,
    InvoiceEvent,
    JournalTransaction,
    Ledger,
    Posting,
    User,
)
from .selectors import ledgers_for_user


class TenantScopedAdmin(admin.ModelAdmin):
    """Client users see only their client's ledgers' rows, here as everywhere."""

    ledger_path = "ledger"

    def get_queryset(self, request):
        visible = ledgers_for_user(request.user)
        return super().get_queryset(request).filter(**{f"{self.ledger_path}__in": visible})


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
