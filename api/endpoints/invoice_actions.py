"""Actions on an invoice: respite, dispute, credit, write-off (idempotent POSTs)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from api.endpoints.common import _valid, positive_money
from api.endpoints.invoices import InvoiceOutput, invoice_response
from api.views import LedgerApiView
from ledger.models import Cause, Invoice
from ledger.selectors import invoice_find
from ledger.services.invoice_changes import invoice_credit, invoice_write_off
from ledger.services.respite_dispute import (
    invoice_dispute_close,
    invoice_dispute_open,
    invoice_respite_clear,
    invoice_respite_set,
)

# --- Actions on an invoice -----------------------------------------------------------------------


class InvoiceActionView(LedgerApiView):
    """An action on one invoice: `act(invoice, data)` calls the service, the answer is the invoice."""

    Input: type[serializers.Serializer]

    def act(self, invoice: Invoice, data: dict) -> None:
        raise NotImplementedError

    def create(self, request, company_no, invoice_no):
        data = _valid(self.Input, request.data)
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        self.act(invoice, data)
        return invoice_response(invoice_find(ledger=self.ledger, invoice_no=invoice_no))


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class InvoiceRespiteView(InvoiceActionView):
    class Input(serializers.Serializer):
        until = serializers.DateField(help_text="the claim timeline pauses until this date")
        reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

        class Meta:
            ref_name = "RespiteInput"

    def act(self, invoice, data):
        invoice_respite_set(invoice=invoice, until=data["until"], reason=data["reason"], actor=self.actor)

    @extend_schema(operation_id="invoices_respite_set", request=Input, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)


class InvoiceRespiteClearView(InvoiceActionView):
    Input = ReasonInput

    def act(self, invoice, data):
        invoice_respite_clear(invoice=invoice, reason=data["reason"], actor=self.actor)

    @extend_schema(operation_id="invoices_respite_clear", request=ReasonInput, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)


class InvoiceDisputeOpenView(InvoiceActionView):
    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=500, help_text="the customer's complaint")

        class Meta:
            ref_name = "DisputeOpenInput"

    def act(self, invoice, data):
        invoice_dispute_open(invoice=invoice, reason=data["reason"], actor=self.actor)

    @extend_schema(operation_id="invoices_dispute_open", request=Input, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)


class InvoiceDisputeCloseView(InvoiceActionView):
    Input = ReasonInput

    def act(self, invoice, data):
        invoice_dispute_close(invoice=invoice, reason=data["reason"], actor=self.actor)

    @extend_schema(operation_id="invoices_dispute_close", request=ReasonInput, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)


class InvoiceCreditView(InvoiceActionView):
    class Input(serializers.Serializer):
        amount = positive_money(
            required=False, allow_null=True, help_text="capital to credit; omit to credit the whole claim"
        )
        reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        cause = serializers.ChoiceField(choices=Cause.choices, required=False, default="")

        class Meta:
            ref_name = "CreditInput"

    def act(self, invoice, data):
        invoice_credit(
            invoice=invoice,
            amount=data.get("amount"),
            reason=data["reason"],
            cause=data["cause"],
            actor=self.actor,
        )

    @extend_schema(operation_id="invoices_credit", request=Input, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)


class InvoiceWriteOffView(InvoiceActionView):
    class Input(serializers.Serializer):
        cause = serializers.ChoiceField(choices=Cause.choices)
        amount = positive_money(
            required=False, allow_null=True, help_text="omit to write off all that is open"
        )
        reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

        class Meta:
            ref_name = "WriteOffInput"

    def act(self, invoice, data):
        invoice_write_off(
            invoice=invoice,
            cause=data["cause"],
            amount=data.get("amount"),
            reason=data["reason"],
            actor=self.actor,
        )

    @extend_schema(operation_id="invoices_write_off", request=Input, responses={200: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)
