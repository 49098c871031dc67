"""Operators configure the claim process and read the claims; statutory figures are edited by our staff."""

from django import forms
from django.contrib import admin

from claims.figures import Figures
from claims.models import BusinessDayRun, Claim, ClaimEvent, ClaimSettings, ClaimStep, StatutoryFigure
from claims.services.process import step_check
from ledger.admin import ReadOnlyAdmin, TenantScopedAdmin
from ledger.errors import ValidationFailed


@admin.register(StatutoryFigure)
class StatutoryFigureAdmin(admin.ModelAdmin):
    list_display = (
        "country",
        "kind",
        "valid_from",
        "valid_to",
        "claim_above",
        "claim_up_to",
        "value",
        "source",
    )
    list_filter = ("country", "kind")
    ordering = ("country", "kind", "-valid_from", "claim_above")

    def has_change_permission(self, request, obj=None):
        # Figures are the law of a country, shared by every client: only our own staff edit them.
        return request.user.client_id is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.client_id is None and super().has_add_permission(request)


class ClaimStepForm(forms.ModelForm):
    class Meta:
        model = ClaimStep
        fields = ["ledger", "position", "kind", "anchor", "offset_days", "deadline_days", "fee_rule", "fixed_fee",
                  "fee_needs_agreement", "audience", "channel", "needs_document", "min_open_amount",
                  "stops_timeline"]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        step = ClaimStep(
            **{k: v for k, v in cleaned.items() if k in {f.name for f in ClaimStep._meta.fields}}
        )
        if step.ledger_id:
            try:
                step_check(step, Figures.load(step.ledger.country), step.ledger.today())
            except ValidationFailed as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(ClaimStep)
class ClaimStepAdmin(TenantScopedAdmin):
    form = ClaimStepForm
    list_display = ("ledger", "position", "kind", "anchor", "offset_days", "deadline_days", "fee_rule", "audience",
                    "channel", "min_open_amount", "stops_timeline")  # fmt: skip
    list_filter = ("kind", "fee_rule")
    ordering = ("ledger", "position")


@admin.register(ClaimSettings)
class ClaimSettingsAdmin(TenantScopedAdmin):
    list_display = ("ledger", "business_late_fee", "reminder_fee_agreed", "unpaid_costs", "interest_charged")


class ClaimEventInline(admin.TabularInline):
    model = ClaimEvent
    extra = 0
    can_delete = False
    fields = ("booking_date", "kind", "step_kind", "fee", "interest", "deadline", "next_on", "document_kind",
              "reason", "actor")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = (
        "invoice",
        "ledger",
        "status",
        "level",
        "last_step_on",
        "deadline",
        "next_on",
        "interest_booked",
    )
    list_filter = ("status", "level")
    search_fields = ("invoice__invoice_no",)
    inlines = [ClaimEventInline]


@admin.register(BusinessDayRun)
class BusinessDayRunAdmin(ReadOnlyAdmin):
    list_display = ("business_date", "ledger", "started_at", "finished_at")
    list_filter = ("business_date",)
