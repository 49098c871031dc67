"""Customers: create, read, update (only what is sent), consents, open invoices, credit balance."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.endpoints.common import _valid, money
from api.endpoints.invoices import InvoiceOutput, InvoicePage, with_invoice_details
from api.exceptions import ApiProblem
from api.pagination import keyset_page, page_parameters
from api.views import LedgerApiView
from ledger.models import ConsentKind, LegalEntity
from ledger.payments.selectors import customer_credit_balance
from ledger.selectors import customer_consents, customer_get, customer_open_invoices, customers_by_no
from ledger.services.customers import customer_fields, customer_upsert

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
    birth_date = serializers.DateField(allow_null=True, help_text="a private person's, from the national id")
    guardian_customer_no = serializers.CharField(
        source="guardian.customer_no", allow_null=True, default=None, help_text="a minor's guardian"
    )
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
    guardian_customer_no = serializers.CharField(
        max_length=30, required=False, allow_blank=True,
        help_text="A minor's guardian (an existing customer of the ledger); blank: none. A debtor under 16 "
        "is never chased in their own name: reminders and collection go to the guardian, or the claim is "
        "held until one is given.",
    )  # fmt: skip

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
