"""The operators' action forms. Each only parses input; the service it feeds checks the rules."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ledger.models import Cause

from .labels import CAUSE, CLAIM_LEVEL, DOCUMENT_KIND, INVOICE_STATUS, label
from .templatetags.ui import day, money


def _reason(required: bool = True) -> forms.CharField:
    return forms.CharField(label=_("Reason"), max_length=500, required=required)


class AmountField(forms.DecimalField):
    """An amount as operators type it in any of the UI's languages: 1 234,50 or 1234.50 or 1.234,50."""

    def to_python(self, value):
        text = re.sub(r"[\s\u00a0\u202f]", "", str(value or "")).removesuffix("kr").removesuffix("kr.")
        if "," in text and "." in text:
            decimal_mark = "," if text.rindex(",") > text.rindex(".") else "."
            text = text.replace("." if decimal_mark == "," else ",", "")
        return super().to_python(text.replace(",", "."))


def _amount(label=None, required: bool = False, help_text="") -> AmountField:
    return AmountField(
        label=label or _("Amount"),
        max_digits=18, decimal_places=2, min_value=0, required=required, help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )  # fmt: skip


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        widget=forms.SearchInput(
            attrs={"placeholder": _("Customer no., name, national id, e-mail, phone, invoice no. or KID/OCR")}
        ),
    )
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=lambda: [("", _("Any"))] + [
        (code, text) for code, text in INVOICE_STATUS.items()
    ])  # fmt: skip
    level = forms.ChoiceField(label=_("Claim level"), required=False, choices=lambda: [("", _("Any"))] + [
        (code, text) for code, text in CLAIM_LEVEL.items() if code
    ])  # fmt: skip
    page = forms.IntegerField(min_value=1, max_value=100000, required=False, widget=forms.HiddenInput)


class RespiteForm(forms.Form):
    until = forms.DateField(label=_("Respite until"), widget=DateInput)
    reason = _reason(required=False)


class ReasonForm(forms.Form):
    reason = _reason(required=False)


class DisputeForm(forms.Form):
    reason = _reason()


def _cause_choices():
    return [("", "—")] + [(value, CAUSE.get(value, value)) for value in Cause.values]


class CreditForm(forms.Form):
    amount = _amount(help_text=_("Leave empty to credit the whole claim with its fees and interest."))
    cause = forms.ChoiceField(label=_("Cause"), choices=_cause_choices, required=False)
    reason = _reason()


class WriteOffForm(forms.Form):
    amount = _amount(help_text=_("Leave empty to write off everything open."))
    cause = forms.ChoiceField(label=_("Cause"), choices=_cause_choices)
    reason = _reason(required=False)


class CollectionStopForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("What the client asks"),
        choices=[
            ("stop", _("Stop: no more collection steps; what is charged stays owed")),
            ("recall", _("Recall: out of collection; the collection fees charged are taken off")),
        ],
        widget=forms.RadioSelect,
    )
    reason = _reason()


class DocumentCopyForm(forms.Form):
    document = forms.TypedChoiceField(label=_("Document"), coerce=int)

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        # In the operator's language and the ledger's date format, like the rest of the page.
        self.fields["document"].choices = [
            (d.pk, f"{label(d.kind, 'document_kind')} ({day(d.booking_date, d.ledger)})") for d in documents
        ]


class AllocatePaymentForm(forms.Form):
    payment = forms.TypedChoiceField(label=_("Unidentified payment"), coerce=int)
    amount = _amount(help_text=_("Leave empty to place as much as is open."))
    reason = _reason()

    def __init__(self, *args, payments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment"].choices = [
            (p.pk, f"{day(p.booking_date, p.ledger)} · {money(p.amount, p.ledger)} · {p.payer_name or '?'} · "
                   f"{p.payment_ref or p.text[:30]}")
            for p in payments
        ]  # fmt: skip


class CreditRefundForm(forms.Form):
    amount = _amount(help_text=_("Leave empty to refund the whole credit balance."))
    bank_account = forms.CharField(
        label=_("Bank account"), max_length=40, required=False,
        help_text=_("Leave empty for the account of the customer's latest payment."),
    )  # fmt: skip
    reason = _reason()


class CreditMoveForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int)
    amount = _amount(help_text=_("Leave empty to move as much as both allow."))
    reason = _reason()

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [(i.pk, f"{i.invoice_no} ({day(i.due_date, i.ledger)})") for i in invoices]


class DeceasedForm(forms.Form):
    reason = _reason()


class GuardianForm(forms.Form):
    guardian_customer_no = forms.CharField(
        label=_("Guardian's customer number"), max_length=30, required=False,
        help_text=_("A customer of this ledger; empty: no guardian."),
    )  # fmt: skip


class AddressForm(forms.Form):
    address_line1 = forms.CharField(label=_("Address"), max_length=200)
    address_line2 = forms.CharField(label=_("Address, line 2"), max_length=200, required=False)
    co_address = forms.CharField(label=_("c/o"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.RegexField(
        label=_("Country"), regex=r"^[A-Za-z]{2}$", max_length=2,
        help_text=_("Two letters: NO, SE, DK, DE ..."),
    )  # fmt: skip

    def clean_country(self):
        return self.cleaned_data["country"].upper()

    reason = _reason(required=False)


class ComplaintForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("favour", _("In the customer's favour: credit")), ("resume", _("Not in the customer's favour: resume the claim"))],
        widget=forms.RadioSelect,
    )  # fmt: skip
    amount = _amount(help_text=_("Credit: leave empty to credit the whole claim."))
    note = forms.CharField(label=_("Note"), max_length=500)


class ReaddressForm(forms.Form):
    line1 = forms.CharField(label=_("Address"), max_length=200)
    line2 = forms.CharField(label=_("Address, line 2"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.RegexField(label=_("Country"), regex=r"^[A-Za-z]{2}$", max_length=2)

    def clean_country(self):
        return self.cleaned_data["country"].upper()


class UnreachableForm(forms.Form):
    reason = _reason()


class AllocateToInvoiceForm(forms.Form):
    invoice = forms.CharField(label=_("Invoice number or KID/OCR"), max_length=40)
    amount = _amount(help_text=_("Leave empty to place as much as is open."))
    reason = _reason()


class RefundForm(forms.Form):
    bank_account = forms.CharField(
        label=_("Bank account"), max_length=40, required=False,
        help_text=_("Leave empty for the account it was paid from."),
    )  # fmt: skip
    reason = _reason()


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[
        ("promise_to_pay", _("Reached: promised to pay")), ("reached", _("Reached: no promise")),
        ("no_answer", _("No answer")), ("wrong_number", _("Wrong number")),
    ], widget=forms.RadioSelect)  # fmt: skip
    promised_until = forms.DateField(label=_("Promised to pay by"), widget=DateInput, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


def _effective_from():
    return forms.DateField(label=_("Takes effect from"), widget=DateInput,
                           help_text=_("Today, or a later day: the business day of that date applies it."))  # fmt: skip


class LedgerRulesForm(forms.Form):
    default_reference_text = forms.CharField(
        label=_("Reference text on invoices"), max_length=200, required=False
    )
    settle_surplus_against_oldest = forms.BooleanField(label=_("Settle a surplus against the oldest overdue invoice"),
                                                       required=False)  # fmt: skip
    allocation_order = forms.ChoiceField(
        label=_("Allocation order of payments"),
        choices=[
            ("capital_first", _("Capital, then fees, then interest")),
            ("costs_first", _("Fees, then interest, then capital")),
        ],
    )
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=365)
    max_respite_days = forms.IntegerField(label=_("Longest respite (days from the day it is given)"),
                                          min_value=1, max_value=365)  # fmt: skip
    effective_from = _effective_from()


class ClaimSettingsForm(forms.Form):
    business_late_fee = forms.BooleanField(label=_("Business customers get the late fee instead of reminder fees"),
                                           required=False)  # fmt: skip
    reminder_fee_agreed = forms.BooleanField(label=_("The reminder fee is agreed with the customers (Sweden)"),
                                             required=False)  # fmt: skip
    unpaid_costs = forms.ChoiceField(label=_("Fees and interest left after the principal is paid"), choices=[
        ("write_off", _("Write them off")), ("keep_chasing", _("Keep chasing them as a cost claim")),
        ("next_invoice", _("Carry them to the customer's next invoice"))])  # fmt: skip
    interest_charged = forms.BooleanField(label=_("Late-payment interest is charged on overdue invoices"),
                                          required=False)  # fmt: skip
    effective_from = _effective_from()


class ClaimStepsForm(forms.Form):
    """Days, fees and minimums of each step of the ledger's process."""

    effective_from = _effective_from()

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = list(steps)
        for position, step in enumerate(self.steps, start=1):
            self.fields[f"offset_days_{position}"] = forms.IntegerField(min_value=0, max_value=365, initial=step.offset_days,
                                                                        label=_("Days"))  # fmt: skip
            self.fields[f"deadline_days_{position}"] = forms.IntegerField(min_value=0, max_value=365,
                                                                          initial=step.deadline_days, label=_("Deadline"))  # fmt: skip
            self.fields[f"min_open_amount_{position}"] = _amount(label=_("Minimum"))
            self.fields[f"min_open_amount_{position}"].initial = step.min_open_amount
            if step.fee_rule == "fixed":
                self.fields[f"fixed_fee_{position}"] = _amount(label=_("Fee"), required=True)
                self.fields[f"fixed_fee_{position}"].initial = step.fixed_fee
            # The table's inputs have no <label> of their own: each says which step and which figure it is.
            for name in ("offset_days", "deadline_days", "min_open_amount", "fixed_fee"):
                if f"{name}_{position}" in self.fields:
                    field = self.fields[f"{name}_{position}"]
                    field.widget.attrs["aria-label"] = _("Step %(position)s: %(figure)s") % {
                        "position": position, "figure": field.label}

    def rows(self):
        for position, step in enumerate(self.steps, start=1):
            yield position, step, [self[name] for name in (f"offset_days_{position}", f"deadline_days_{position}",
                                   f"min_open_amount_{position}", f"fixed_fee_{position}") if name in self.fields]  # fmt: skip

    def changes(self) -> dict[int, dict]:
        out = {}
        for position, _step in enumerate(self.steps, start=1):
            fields = {}
            for name in ("offset_days", "deadline_days", "min_open_amount", "fixed_fee"):
                key = f"{name}_{position}"
                if key in self.cleaned_data and self.cleaned_data[key] is not None:
                    fields[name] = self.cleaned_data[key]
            out[position] = fields
        return out


ROLE_CHOICES = [
    ("read_only", _("Read only")),
    ("operator", _("Operator")),
    ("client_admin", _("Client administrator")),
]


class InviteForm(forms.Form):
    username = forms.RegexField(label=_("Username"), regex=r"^[\w.@+-]+$", max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="operator")


class UserUpdateForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    active = forms.BooleanField(label=_("Active"), required=False)


class TokenForm(forms.Form):
    ledger = forms.ChoiceField(label=_("Ledger"), required=False)  # empty: every ledger of the client
    can_write = forms.BooleanField(label=_("May write (register invoices, act on them)"), required=False)
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. the system that uses it"))

    def __init__(self, *args, ledgers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ledger"].choices = [("", _("Every ledger of the client"))] + [
            (ledger.company_no, f"{ledger.company_no} {ledger.name}") for ledger in ledgers
        ]


class RespiteDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("grant", _("Grant the respite")),
                                                               ("refuse", _("Refuse"))], widget=forms.RadioSelect)  # fmt: skip
    reason = _reason(required=False)


class DocumentProfileForm(forms.Form):
    paper_kinds = forms.MultipleChoiceField(
        label=_("Always on paper to the registered address"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(code, text) for code, text in DOCUMENT_KIND.items()],
        help_text=_("Whatever the customer's channel; the payment demand and the notice before legal action always are."),
    )  # fmt: skip
    retention_years = forms.IntegerField(label=_("Keep documents (years)"), min_value=1, max_value=30)
