"""REST API of the ledger core, under /api/v1/ledgers/<company_no>/ (see payex_ledger/urls.py).

Views are thin: they validate input with their nested Input serializer, call services and selectors,
and answer with an Output serializer. The ledger comes from the URL through the token's scope
(api/views.py), so a token never reaches another client's data.
"""

import mimetypes
from datetime import UTC, datetime
from decimal import Decimal

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.exceptions import ApiProblem
from api.negotiation import DownloadNegotiation
from api.pagination import CURSOR_PARAM, keyset_page, page_limit, page_parameters, page_serializer
from api.views import LedgerApiView
from ledger.errors import NotFound, ValidationFailed
from ledger.models import Cause, ConsentKind, Invoice, InvoiceStatus, LegalEntity, Payment
from ledger.outbox import SAFE_FILE_NAME, company_dir, outbox_file
from ledger.payments.allocation import Allocation, payment_allocate
from ledger.payments.selectors import customer_credit_balance, payments_unallocated
from ledger.selectors import (
    customer_consents,
    customer_get,
    customer_open_invoices,
    customers_by_no,
    invoice_events,
    invoice_find,
    invoice_get_by_external_id,
    invoices_filtered,
    payment_get,
    payments_for_ledger,
)
from ledger.services.customers import customer_fields, customer_upsert
from ledger.services.invoice_changes import invoice_credit, invoice_write_off
from ledger.services.registration import InvoiceInput, invoices_register
from ledger.services.respite_dispute import (
    invoice_dispute_close,
    invoice_dispute_open,
    invoice_respite_clear,
    invoice_respite_set,
)

CENT = Decimal("0.01")


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def positive_money(**kwargs) -> serializers.DecimalField:
    return money(min_value=Decimal("0.01"), **kwargs)


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
    for invoice in invoices:
        invoice.claim_summary = claims[invoice.id]
        invoice.balance = invoice.claim_summary["balance"]
    return invoices


class InvoiceAmountsOutput(serializers.Serializer):
    capital = money(help_text="open capital")
    fees = money(help_text="open fees")
    interest = money(help_text="open interest")
    open = money(source="open_amount", help_text="capital + fees + interest")


class PaymentInformationOutput(serializers.Serializer):
    account = serializers.CharField(source="ledger.client_funds_account", help_text="pay to this account")
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
                "account": invoice.ledger.client_funds_account,
                "reference": invoice.payment_ref,
                "amount_due": _money(balance.open_amount),
                "currency": invoice.currency,
            },
            "claim_level": invoice.claim_summary["claim_level"],
            "next_event": invoice.claim_summary["next_event"],
            "accrued_interest": invoice.claim_summary["accrued_interest"],
            "created_at": invoice.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


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


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def register_invoices(ledger, items: list[dict], actor: str, *, field_prefix: str) -> list[Invoice]:
    """Registration by JSON: the same service as CUSIN (invoices_register), all or nothing."""
    customers = customers_by_no(ledger=ledger, customer_nos=[item["customer_no"] for item in items])
    inputs = []
    for index, item in enumerate(items):
        customer = customers.get(item["customer_no"])
        if customer is None:
            where = f"{field_prefix}[{index}].customer_no" if field_prefix else "customer_no"
            raise ValidationFailed(
                f"customer {item['customer_no']} not found in ledger {ledger.company_no}: create it first",
                code="customer_not_found",
                field=where,
            )
        fields = {k: v for k, v in item.items() if k != "customer_no"}
        inputs.append(InvoiceInput(customer=customer, **fields))
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
        invoice_respite_set(
            invoice=invoice, until=data["until"], reason=data["reason"], actor=self.actor
        )

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


# --- Customers ----------------------------------------------------------------------------------


class CustomerOutput(serializers.Serializer):
    customer_no = serializers.CharField()
    name = serializers.CharField()
    legal_entity = serializers.ChoiceField(choices=LegalEntity.choices)
    national_id = serializers.CharField()
    national_id_country = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    co_address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    billing_address = serializers.DictField()
    protected_identity = serializers.BooleanField()
    distribution_type = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CustomerFieldsInput(serializers.Serializer):
    """What a client may set on a customer (all optional: a PATCH changes only what it sends)."""

    name = serializers.CharField(max_length=200, required=False)
    legal_entity = serializers.ChoiceField(
        choices=LegalEntity.choices,
        required=False,
        help_text="Left out, the national_id decides it (an organisation number: business; a person's "
        "number: private; none: private). Given, the national_id must be of that kind.",
    )
    national_id = serializers.CharField(
        max_length=30,
        required=False,
        allow_blank=True,
        help_text="Checked by the rules of national_id_country (the ledger's country when left out) for "
        "NO, SE, DK and FI.",
    )
    national_id_country = serializers.RegexField(r"^([A-Z]{2})?$", required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.RegexField(r"^\+?[0-9 ()-]{0,30}$", max_length=30, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    co_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False)
    protected_identity = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "CustomerUpdateInput"


class CustomerCreateView(LedgerApiView):
    class Input(CustomerFieldsInput):
        customer_no = serializers.RegexField(r"^[A-Za-z0-9._-]{1,30}$", max_length=30)
        name = serializers.CharField(max_length=200)

        class Meta:
            ref_name = "CustomerCreateInput"

    @extend_schema(operation_id="customers_create", request=Input, responses={201: CustomerOutput})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no):
        data = dict(_valid(self.Input, request.data))
        if customers_by_no(ledger=self.ledger, customer_nos=[data["customer_no"]]):
            raise ApiProblem(
                status=409,
                code="customer_exists",
                detail=f"customer {data['customer_no']} exists: change it with PATCH",
            )
        customer = customer_upsert(ledger=self.ledger, actor=self.actor, **data)
        return Response(CustomerOutput(customer).data, status=201)


class CustomerDetailView(LedgerApiView):
    @extend_schema(operation_id="customers_get", responses={200: CustomerOutput})
    def get(self, request, company_no, customer_no):
        return Response(CustomerOutput(customer_get(ledger=self.ledger, customer_no=customer_no)).data)

    @extend_schema(
        operation_id="customers_update", request=CustomerFieldsInput, responses={200: CustomerOutput}
    )
    def patch(self, request, company_no, customer_no):
        data = _valid(CustomerFieldsInput, request.data)
        customer = customer_get(ledger=self.ledger, customer_no=customer_no)
        fields = {**customer_fields(customer), **data}
        if "national_id" in data and "legal_entity" not in data:
            fields["legal_entity"] = ""  # a new number decides the entity again
        customer = customer_upsert(
            ledger=self.ledger, actor=self.actor, customer_no=customer.customer_no, **fields
        )
        return Response(CustomerOutput(customer).data)


class ConsentOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    active = serializers.BooleanField()
    changed_on = serializers.DateField()
    source = serializers.CharField()


class CustomerConsentsView(LedgerApiView):
    class Input(serializers.Serializer):
        class Change(serializers.Serializer):
            kind = serializers.ChoiceField(choices=ConsentKind.choices)
            active = serializers.BooleanField(help_text="true gives the consent, false cancels it")

            class Meta:
                ref_name = "ConsentChange"

        consents = Change(many=True, min_length=1, max_length=len(ConsentKind.values))

        class Meta:
            ref_name = "ConsentsInput"

        def validate_consents(self, value):
            kinds = [c["kind"] for c in value]
            if len(set(kinds)) != len(kinds):
                raise serializers.ValidationError("a consent kind appears more than once")
            return value

    class Output(serializers.Serializer):
        results = ConsentOutput(many=True)

        class Meta:
            ref_name = "ConsentList"

    def _answer(self, customer, status=200):
        return Response(
            {"results": ConsentOutput(customer_consents(customer=customer), many=True).data}, status
        )

    @extend_schema(operation_id="customers_consents_list", responses={200: Output})
    def get(self, request, company_no, customer_no):
        return self._answer(customer_get(ledger=self.ledger, customer_no=customer_no))

    @extend_schema(operation_id="customers_consents_set", request=Input, responses={200: Output})
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no, customer_no):
        data = _valid(self.Input, request.data)
        customer = customer_get(ledger=self.ledger, customer_no=customer_no)
        consents = {c["kind"]: c["active"] for c in data["consents"]}
        customer = customer_upsert(
            ledger=self.ledger,
            actor=self.actor,
            customer_no=customer.customer_no,
            consents=consents,
            **customer_fields(customer),
        )
        return self._answer(customer)


class CustomerInvoicesView(LedgerApiView):
    @extend_schema(
        operation_id="customers_open_invoices",
        parameters=page_parameters(),
        responses={200: InvoicePage},
    )
    def get(self, request, company_no, customer_no):
        customer = customer_get(ledger=self.ledger, customer_no=customer_no)
        page = keyset_page(
            customer_open_invoices(customer=customer),
            request,
            orderings={"due_date": "due_date"},
            default="due_date",
        )
        results = InvoiceOutput(with_invoice_details(page.items), many=True).data
        return Response({"next": page.next_url, "results": results})


class CustomerCreditView(LedgerApiView):
    class Output(serializers.Serializer):
        customer_no = serializers.CharField()
        currency = serializers.CharField()
        credit_balance = money(help_text="what we owe the customer (overpayments not yet settled)")

        class Meta:
            ref_name = "CustomerCreditBalance"

    @extend_schema(operation_id="customers_credit_balance", responses={200: Output})
    def get(self, request, company_no, customer_no):
        customer = customer_get(ledger=self.ledger, customer_no=customer_no)
        return Response(
            self.Output(
                {
                    "customer_no": customer.customer_no,
                    "currency": self.ledger.currency,
                    "credit_balance": customer_credit_balance(customer=customer),
                }
            ).data
        )


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


# --- Outbox files -------------------------------------------------------------------------------

class FileListView(LedgerApiView):
    class Output(serializers.Serializer):
        name = serializers.CharField()
        size = serializers.IntegerField()
        modified_at = serializers.DateTimeField()
        url = serializers.URLField()

        class Meta:
            ref_name = "OutboxFile"

    @extend_schema(
        operation_id="files_list",
        parameters=page_parameters(),
        responses={200: page_serializer("OutboxFilePage", Output)},
    )
    def get(self, request, company_no):
        outbox = company_dir(self.ledger.company_no, "outbox")
        after = request.query_params.get(CURSOR_PARAM, "")
        limit = page_limit(request)
        names = sorted(
            p.name
            for p in outbox.iterdir()
            if p.is_file() and SAFE_FILE_NAME.match(p.name) and p.name > after
        )
        rows = []
        for name in names[:limit]:
            stat = (outbox / name).stat()
            rows.append(
                {
                    "name": name,
                    "size": stat.st_size,
                    "modified_at": datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    "url": request.build_absolute_uri(f"{request.path}{name}/"),
                }
            )
        next_url = None
        if len(names) > limit:
            next_url = replace_query_param(request.build_absolute_uri(), CURSOR_PARAM, names[limit - 1])
        return Response({"next": next_url, "results": self.Output(rows, many=True).data})


# The content types outbox files are served with (by their extension); anything else is octet-stream.
DOWNLOAD_TYPES = ("application/xml", "text/plain", "text/csv", "application/json", "application/pdf")


class FileDownloadView(LedgerApiView):
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="files_download",
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY)
            for media_type in (*DOWNLOAD_TYPES, "application/octet-stream")
        },
    )
    def get(self, request, company_no, name):
        path = outbox_file(self.ledger.company_no, name)
        if path is None:
            raise ApiProblem(status=404, code="file_not_found", detail=f"no file {name!r} in the outbox")
        content_type = mimetypes.guess_type(path.name)[0]
        if content_type not in DOWNLOAD_TYPES:
            content_type = "application/octet-stream"
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type
        )


LEDGER = "ledgers/<str:company_no>/"
INVOICE = LEDGER + "invoices/<str:invoice_no>/"
CUSTOMER = LEDGER + "customers/<str:customer_no>/"

urlpatterns = [
    path(LEDGER + "invoices/", InvoiceListView.as_view(), name="api-invoices"),
    path(LEDGER + "invoice-batches/", InvoiceBatchView.as_view(), name="api-invoice-batches"),
    path(
        LEDGER + "invoices-by-external-id/<str:external_id>/",
        InvoiceByExternalIdView.as_view(),
        name="api-invoice-by-external-id",
    ),
    path(INVOICE, InvoiceDetailView.as_view(), name="api-invoice"),
    path(INVOICE + "events/", InvoiceEventsView.as_view(), name="api-invoice-events"),
    path(INVOICE + "respite/", InvoiceRespiteView.as_view(), name="api-invoice-respite"),
    path(INVOICE + "respite/clear/", InvoiceRespiteClearView.as_view(), name="api-invoice-respite-clear"),
    path(INVOICE + "dispute/", InvoiceDisputeOpenView.as_view(), name="api-invoice-dispute"),
    path(INVOICE + "dispute/close/", InvoiceDisputeCloseView.as_view(), name="api-invoice-dispute-close"),
    path(INVOICE + "credit/", InvoiceCreditView.as_view(), name="api-invoice-credit"),
    path(INVOICE + "write-off/", InvoiceWriteOffView.as_view(), name="api-invoice-write-off"),
    path(LEDGER + "customers/", CustomerCreateView.as_view(), name="api-customers"),
    path(CUSTOMER, CustomerDetailView.as_view(), name="api-customer"),
    path(CUSTOMER + "consents/", CustomerConsentsView.as_view(), name="api-customer-consents"),
    path(CUSTOMER + "invoices/", CustomerInvoicesView.as_view(), name="api-customer-invoices"),
    path(CUSTOMER + "credit-balance/", CustomerCreditView.as_view(), name="api-customer-credit"),
    path(LEDGER + "payments/", PaymentListView.as_view(), name="api-payments"),
    path(LEDGER + "payments/<int:payment_id>/", PaymentDetailView.as_view(), name="api-payment"),
    path(
        LEDGER + "payments/<int:payment_id>/allocate/",
        PaymentAllocateView.as_view(),
        name="api-payment-allocate",
    ),
    path(LEDGER + "files/", FileListView.as_view(), name="api-files"),
    path(LEDGER + "files/<str:name>/", FileDownloadView.as_view(), name="api-file"),
]
