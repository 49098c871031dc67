"""Invoices: the one output shape, the list (filtered, keyset-paginated), registration one by one or in
batches (the same service as CUSIN), one invoice, its events."""

from datetime import UTC
from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.endpoints.common import _date, _money, _valid, money, positive_money
from api.pagination import keyset_page, page_parameters, page_serializer
from api.views import LedgerApiView
from claims.collection_stop import pay_to_account
from ledger.errors import ValidationFailed
from ledger.models import Customer, Invoice, InvoiceStatus
from ledger.selectors import (
    customers_by_no,
    invoice_events,
    invoice_find,
    invoice_get_by_external_id,
    invoices_filtered,
)
from ledger.services.registration import InvoiceInput, invoices_register

# --- Invoices: the one output shape -------------------------------------------------------------


def with_invoice_details(invoices: list[Invoice]) -> list[Invoice]:
    """Load what InvoiceOutput shows beyond the invoice row, for a whole page in one go.

    The one place to add per-invoice data later (claim level, next event, accrued interest, documents):
    load it here for all `invoices` at once, set it on each, and add the field to InvoiceOutput.
    """
    # The claims app reads the ledger; the ledger app imports it only when a request runs.
    from claims.selectors import claim_summaries

    # The claim summaries read each invoice's postings (for the interest) and give its balance too.
    claims = claim_summaries(ledger=invoices[0].ledger, invoices=invoices) if invoices else {}
    payers = dict(
        Customer.objects.filter(pk__in={i.payer_id for i in invoices if i.payer_id}).values_list("id", "customer_no")
    )
    for invoice in invoices:
        invoice.payer_customer_no = payers.get(invoice.payer_id)
        invoice.claim_summary = claims[invoice.id]
        invoice.balance = invoice.claim_summary["balance"]
    return invoices


class InvoiceAmountsOutput(serializers.Serializer):
    capital = money(help_text="open capital")
    fees = money(help_text="open fees")
    interest = money(help_text="open interest")
    open = money(source="open_amount", help_text="capital + fees + interest")


class PaymentInformationOutput(serializers.Serializer):
    account = serializers.CharField(
        source="ledger.client_funds_account",
        help_text="pay to this account (the collection client-funds account once the claim is in collection)",
    )
    reference = serializers.CharField(source="payment_ref", help_text="KID / OCR to pay with")
    amount_due = money(source="balance.open_amount")
    currency = serializers.CharField()


class NextEventOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="the next claim step (e.g. collection_notice), or respite_ends")
    date = serializers.DateField()
    amount = money(allow_null=True, help_text="the fee the step charges")


class InvoiceOutput(serializers.Serializer):
    """An invoice as the API shows it. Fill it with `with_invoice_details` first.

    The fields declare the shape (the OpenAPI schema); `to_representation` builds it directly,
    because DRF's generic field-by-field path costs more than the database work for a page of 50.
    A field added here is added in both places (the schemathesis test fails if they disagree).
    """

    invoice_no = serializers.CharField()
    external_id = serializers.CharField()
    customer_no = serializers.CharField(source="customer.customer_no")
    payer_customer_no = serializers.CharField(allow_null=True, help_text="another payer, when the invoice names one")
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    currency = serializers.CharField()
    amount = money(help_text="capital as registered")
    amounts = InvoiceAmountsOutput(source="balance", help_text="what is open now, by component")
    invoice_date = serializers.DateField()
    due_date = serializers.DateField()
    respite_until = serializers.DateField(allow_null=True)
    closed_on = serializers.DateField(allow_null=True)
    reference_text = serializers.CharField()
    payment = PaymentInformationOutput(source="*")
    claim_level = serializers.CharField(help_text="the last claim step taken, or due_date")
    next_event = NextEventOutput(allow_null=True, help_text="the claim's next step if nothing changes")
    accrued_interest = money(help_text="late-payment interest to date: booked and accrued since")
    created_at = serializers.DateTimeField()

    def to_representation(self, invoice: Invoice) -> dict:
        balance = invoice.balance
        return {
            "invoice_no": invoice.invoice_no,
            "external_id": invoice.external_id,
            "customer_no": invoice.customer.customer_no,
            "payer_customer_no": invoice.payer_customer_no,
            "status": invoice.status,
            "currency": invoice.currency,
            "amount": _money(invoice.amount),
            "amounts": {
                "capital": _money(balance.capital),
                "fees": _money(balance.fees),
                "interest": _money(balance.interest),
                "open": _money(balance.open_amount),
            },
            "invoice_date": invoice.invoice_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "respite_until": _date(invoice.respite_until),
            "closed_on": _date(invoice.closed_on),
            "reference_text": invoice.reference_text,
            "payment": {
                "account": pay_to_account(ledger=invoice.ledger, level=invoice.claim_summary["claim_level"]),
                "reference": invoice.payment_ref,
                "amount_due": _money(balance.open_amount),
                "currency": invoice.currency,
            },
            "claim_level": invoice.claim_summary["claim_level"],
            "next_event": invoice.claim_summary["next_event"],
            "accrued_interest": invoice.claim_summary["accrued_interest"],
            "created_at": invoice.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }


def invoice_response(invoice: Invoice, status: int = 200) -> Response:
    return Response(InvoiceOutput(with_invoice_details([invoice])[0]).data, status=status)


INVOICE_ORDERINGS = {
    "due_date": "due_date",
    "-due_date": "due_date",
    "invoice_date": "invoice_date",
    "-invoice_date": "invoice_date",
    "invoice_no": "invoice_no",
    "-invoice_no": "invoice_no",
    "created_at": "created_at",
    "-created_at": "created_at",
}
InvoicePage = page_serializer("InvoicePage", InvoiceOutput)


class InvoiceListView(LedgerApiView):
    class Filters(serializers.Serializer):
        status = serializers.ChoiceField(choices=InvoiceStatus.choices, required=False)
        customer = serializers.CharField(required=False, max_length=30, help_text="customer number")
        external_id = serializers.CharField(required=False, max_length=80)
        invoice_no = serializers.CharField(
            required=False, max_length=40, help_text="exactly this number (any character, slashes included)"
        )
        due_from = serializers.DateField(required=False)
        due_to = serializers.DateField(required=False)
        invoice_date_from = serializers.DateField(required=False)
        invoice_date_to = serializers.DateField(required=False)

        class Meta:
            ref_name = "InvoiceFilters"

    class Input(serializers.Serializer):
        customer_no = serializers.CharField(max_length=30, help_text="an existing customer of the ledger")
        invoice_no = serializers.CharField(max_length=40)
        invoice_date = serializers.DateField()
        amount = positive_money()
        due_date = serializers.DateField(required=False, help_text="default: the ledger's payment terms")
        payment_ref = serializers.RegexField(
            r"^[0-9]{2,25}$", required=False, help_text="your own KID/OCR; default: we make one"
        )
        currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="the ledger's currency")
        external_id = serializers.CharField(max_length=80, required=False, default="")
        reference_text = serializers.CharField(max_length=200, required=False, default="")
        amount_excl_vat = positive_money(required=False)
        vat_amount = money(required=False, min_value=Decimal("0"))
        with_distribution = serializers.BooleanField(required=False, default=True)
        distribution_type = serializers.CharField(max_length=20, required=False, default="")
        payer_customer_no = serializers.CharField(
            max_length=30, required=False, default="",
            help_text="another payer (an existing customer of the ledger): they receive the documents and the claim",
        )  # fmt: skip

        class Meta:
            ref_name = "InvoiceRegisterInput"

    @extend_schema(
        operation_id="invoices_list",
        parameters=[Filters, *page_parameters(INVOICE_ORDERINGS, "due_date")],
        responses={200: InvoicePage},
    )
    def get(self, request, company_no):
        filters = self.Filters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = invoices_filtered(
            ledger=self.ledger,
            status=f.get("status"),
            customer_no=f.get("customer"),
            external_id=f.get("external_id"),
            invoice_no=f.get("invoice_no"),
            due_from=f.get("due_from"),
            due_to=f.get("due_to"),
            invoice_date_from=f.get("invoice_date_from"),
            invoice_date_to=f.get("invoice_date_to"),
        )
        page = keyset_page(qs, request, orderings=INVOICE_ORDERINGS, default="due_date")
        results = InvoiceOutput(with_invoice_details(page.items), many=True).data
        return Response({"next": page.next_url, "results": results})

    @extend_schema(operation_id="invoices_register", request=Input, responses={201: InvoiceOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no):
        data = _valid(self.Input, request.data)
        invoice = register_invoices(self.ledger, [data], self.actor, field_prefix="")[0]
        return invoice_response(invoice, status=201)


def register_invoices(ledger, items: list[dict], actor: str, *, field_prefix: str) -> list[Invoice]:
    """Registration by JSON: the same service as CUSIN (invoices_register), all or nothing."""
    numbers = [item["customer_no"] for item in items] + [i["payer_customer_no"] for i in items if i.get("payer_customer_no")]
    customers = customers_by_no(ledger=ledger, customer_nos=numbers)
    inputs = []
    for index, item in enumerate(items):
        fields = {k: v for k, v in item.items() if k not in ("customer_no", "payer_customer_no")}
        for key in ("customer_no", "payer_customer_no"):
            if item.get(key) and item[key] not in customers:
                where = f"{field_prefix}[{index}].{key}" if field_prefix else key
                whose = "customer" if key == "customer_no" else "payer"
                raise ValidationFailed(
                    f"{whose} {item[key]} not found in ledger {ledger.company_no}: create the customer first",
                    code="customer_not_found" if key == "customer_no" else "payer_not_found",
                    field=where,
                )  # fmt: skip
        payer = customers[item["payer_customer_no"]] if item.get("payer_customer_no") else None
        inputs.append(InvoiceInput(customer=customers[item["customer_no"]], payer=payer, **fields))
    return invoices_register(ledger=ledger, invoices=inputs, actor=actor)


class InvoiceBatchView(LedgerApiView):
    class Input(serializers.Serializer):
        invoices = InvoiceListView.Input(many=True, min_length=1, max_length=1000)

        class Meta:
            ref_name = "InvoiceBatchInput"

    class Output(serializers.Serializer):
        invoices = InvoiceOutput(many=True)

        class Meta:
            ref_name = "InvoiceBatchOutput"

    @extend_schema(operation_id="invoices_register_batch", request=Input, responses={201: Output})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no):
        data = _valid(self.Input, request.data)
        invoices = register_invoices(self.ledger, data["invoices"], self.actor, field_prefix="invoices")
        return Response(
            {"invoices": InvoiceOutput(with_invoice_details(invoices), many=True).data}, status=201
        )


class InvoiceDetailView(LedgerApiView):
    @extend_schema(operation_id="invoices_get", responses={200: InvoiceOutput})
    def get(self, request, company_no, invoice_no):
        return invoice_response(invoice_find(ledger=self.ledger, invoice_no=invoice_no))


class InvoiceByExternalIdView(LedgerApiView):
    @extend_schema(operation_id="invoices_get_by_external_id", responses={200: InvoiceOutput})
    def get(self, request, company_no, external_id):
        return invoice_response(invoice_get_by_external_id(ledger=self.ledger, external_id=external_id))


class InvoiceEventsView(LedgerApiView):
    class Output(serializers.Serializer):
        kind = serializers.CharField()
        booking_date = serializers.DateField()
        from_status = serializers.CharField()
        to_status = serializers.CharField()
        reason = serializers.CharField()
        actor = serializers.CharField(help_text="who: a user, a token (api:…) or a job")
        created_at = serializers.DateTimeField()

        class Meta:
            ref_name = "InvoiceEvent"

    @extend_schema(
        operation_id="invoices_events",
        responses={200: page_serializer("InvoiceEventPage", Output)},
        parameters=page_parameters(),
    )
    def get(self, request, company_no, invoice_no):
        invoice = invoice_find(ledger=self.ledger, invoice_no=invoice_no)
        page = keyset_page(
            invoice_events(invoice=invoice),
            request,
            orderings={"created_at": "created_at"},
            default="created_at",
        )
        return Response({"next": page.next_url, "results": self.Output(page.items, many=True).data})
