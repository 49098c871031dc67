"""Payments: list, one payment, and placing an unidentified one on invoices."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.endpoints.common import _valid, money, positive_money
from api.pagination import keyset_page, page_parameters, page_serializer
from api.views import LedgerApiView
from ledger.errors import NotFound, ValidationFailed
from ledger.models import Payment
from ledger.payments.allocation import Allocation, payment_allocate
from ledger.payments.selectors import payments_unallocated
from ledger.selectors import customer_get, invoice_find, payment_get, payments_for_ledger

# --- Payments -----------------------------------------------------------------------------------


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    bank_archive_ref = serializers.CharField()
    amount = money()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Payment.Status.choices, help_text="allocated = matched")
    outcome = serializers.CharField()
    match_detail = serializers.CharField(help_text="why an unidentified payment did not match")
    payment_ref = serializers.CharField()
    payer_name = serializers.CharField()
    booking_date = serializers.DateField()
    value_date = serializers.DateField()
    invoice_no = serializers.CharField(source="invoice.invoice_no", allow_null=True, default=None)
    customer_no = serializers.CharField(source="customer.customer_no", allow_null=True, default=None)
    unallocated = money(help_text="what of it is still on suspense")


def with_payment_details(payments: list[Payment]) -> list[Payment]:
    unallocated = payments_unallocated(payment_ids=[p.id for p in payments])
    for payment in payments:
        payment.unallocated = unallocated[payment.id]
    return payments


PAYMENT_ORDERINGS = {"booking_date": "booking_date", "-booking_date": "booking_date"}


class PaymentListView(LedgerApiView):
    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=Payment.Status.choices, required=False)

        class Meta:
            ref_name = "PaymentFilters"

    @extend_schema(
        operation_id="payments_list",
        parameters=[Filters, *page_parameters(PAYMENT_ORDERINGS, "-booking_date")],
        responses={200: page_serializer("PaymentPage", PaymentOutput)},
    )
    def get(self, request, company_no):
        filters = _valid(self.Filters, request.query_params)
        qs = payments_for_ledger(ledger=self.ledger, status=filters.get("status"))
        page = keyset_page(qs, request, orderings=PAYMENT_ORDERINGS, default="-booking_date")
        results = PaymentOutput(with_payment_details(page.items), many=True).data
        return Response({"next": page.next_url, "results": results})


class PaymentDetailView(LedgerApiView):
    @extend_schema(operation_id="payments_get", responses={200: PaymentOutput})
    def get(self, request, company_no, payment_id):
        payment = payment_get(ledger=self.ledger, payment_id=payment_id)
        return Response(PaymentOutput(with_payment_details([payment])[0]).data)


class PaymentAllocateView(LedgerApiView):
    class Input(serializers.Serializer):
        class Part(serializers.Serializer):
            invoice_no = serializers.CharField(max_length=40)
            amount = positive_money(required=False, allow_null=True, help_text="default: as much as is open")

            class Meta:
                ref_name = "AllocationInput"

        allocations = Part(many=True, required=False, default=list, max_length=100)
        credit_customer_no = serializers.CharField(
            max_length=30, required=False, help_text="what is left goes to this customer's credit balance"
        )
        reason = serializers.CharField(max_length=500)

        class Meta:
            ref_name = "PaymentAllocateInput"

    @extend_schema(operation_id="payments_allocate", request=Input, responses={200: PaymentOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no, payment_id):
        data = _valid(self.Input, request.data)
        payment = payment_get(ledger=self.ledger, payment_id=payment_id)
        allocations = []
        for index, part in enumerate(data["allocations"]):
            try:
                invoice = invoice_find(ledger=self.ledger, invoice_no=part["invoice_no"])
            except NotFound as exc:
                raise ValidationFailed(
                    exc.message, code="invoice_not_found", field=f"allocations[{index}].invoice_no"
                ) from exc
            allocations.append(Allocation(invoice=invoice, amount=part.get("amount")))
        credit_customer = None
        if data.get("credit_customer_no"):
            try:
                credit_customer = customer_get(ledger=self.ledger, customer_no=data["credit_customer_no"])
            except NotFound as exc:
                raise ValidationFailed(
                    exc.message, code="customer_not_found", field="credit_customer_no"
                ) from exc
        payment_allocate(
            payment=payment,
            allocations=allocations,
            credit_customer=credit_customer,
            reason=data["reason"],
            actor=self.actor,
        )
        payment = payment_get(ledger=self.ledger, payment_id=payment_id)
        return Response(PaymentOutput(with_payment_details([payment])[0]).data)
