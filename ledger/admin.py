"""Read-mostly admin: journal rows are append-only, so they are never editable here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from ledger.selectors import ledgers_for_user
from ledger.services.ledgers import ledger_create, ledger_fields_check

from .edi_ids import org_no_clean
from .errors import ValidationFailed
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


class TenantScopedAdmin(admin.ModelAdmin):
    """Client users see only their client's ledgers' rows, here as everywhere."""

    ledger_path = "ledger"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.client_id is None and request.user.is_staff:
            return queryset  # our own staff, including rows of no ledger (a file for an unknown CompanyNo)
        return queryset.filter(**{f"{self.ledger_path}__in": ledgers_for_user(request.user)})


class ClientScopedAdmin(admin.ModelAdmin):
    """Rows of a client (price lists, document profiles): a client's users see their own client's."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.client_id is not None:
            return queryset.filter(client_id=request.user.client_id)
        return queryset if request.user.is_staff else queryset.none()


@admin.register(User)
class LedgerUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Client", {"fields": ("client",)}),)
    list_display = ("username", "email", "client", "is_staff")


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ("name", "org_no", "vat_registered", "second_factor_hours")

    def clean_org_no(self):
        """Checked as an organisation number of the country of the client's ledgers (or any of ours)."""
        value = self.cleaned_data["org_no"]
        if not value:
            return value
        ledger = self.instance.ledgers.first() if self.instance.pk else None
        countries = [ledger.country] if ledger else ["NO", "SE", "DK", "FI"]
        errors = []
        for country in countries:
            try:
                return org_no_clean(value, country=country)
            except ValidationFailed as exc:
                errors.append(exc.message)
        raise forms.ValidationError(errors[0])


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientForm
    list_display = ("name", "org_no", "vat_registered", "created_at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(pk=request.user.client_id) if request.user.client_id else qs


class AccountInline(admin.TabularInline):
    model = Account
    extra = 0


class LedgerAddForm(forms.ModelForm):
    """A new ledger, checked as the onboarding service checks it (it is then made by that service)."""

    class Meta:
        model = Ledger
        fields = ("client", "company_no", "ledger_no", "name", "country", "currency", "client_funds_account",
                  "collection_funds_account")  # fmt: skip

    currency = forms.CharField(max_length=3, required=False, help_text="empty: the country's currency")

    def clean(self):
        data = super().clean()
        try:
            ledger_fields_check(company_no=data.get("company_no") or "", ledger_no=data.get("ledger_no") or "",
                                country=data.get("country") or "")  # fmt: skip
        except ValidationFailed as exc:
            raise forms.ValidationError({exc.field: exc.message} if exc.field else exc.message) from None
        return data


@admin.register(Ledger)
class LedgerAdmin(TenantScopedAdmin):
    """A ledger is added through `ledger_create` (with its chart of accounts), never as a bare row; its
    numbers, country and currency are fixed once it exists."""

    ledger_path = "pk"

    list_display = ("company_no", "ledger_no", "name", "country", "currency", "client")
    inlines = [AccountInline]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LedgerAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return LedgerAddForm.Meta.fields if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("client", "company_no", "ledger_no", "country", "currency", "reference_scheme",
                                       "last_reference_serial", "created_at")  # fmt: skip

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        ledger, _ = ledger_create(company_no=data["company_no"], ledger_no=data["ledger_no"], country=data["country"],
                                  name=data["name"], client=data["client"], currency=data.get("currency") or None,
                                  client_funds_account=data.get("client_funds_account") or "",
                                  collection_funds_account=data.get("collection_funds_account") or "")  # fmt: skip
        obj.pk = ledger.pk
        obj.refresh_from_db()
        obj._state.adding = False


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
    list_display = ("invoice", "ledger", "kind", "attempt_no", "amount", "due_date", "status", "bank_outcome")
    list_filter = ("ledger", "kind", "status", "bank_outcome")


@admin.register(CustomerEvent)
class CustomerEventAdmin(ReadOnlyAdmin):
    list_display = ("customer", "ledger", "kind", "booking_date", "actor", "reason")
    list_filter = ("ledger", "kind")
