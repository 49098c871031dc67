"""The operators' action forms. Each only parses input; the service it feeds checks the rules."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ledger.models import Cause

from .labels import CLAIM_LEVEL, INVOICE_STATUS


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
    return [("", "—")] + [(value, label) for value, label in Cause.choices]


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
        self.fields["document"].choices = [
            (d.pk, f"{d.get_kind_display()} ({d.booking_date})") for d in documents
        ]


class AllocatePaymentForm(forms.Form):
    payment = forms.TypedChoiceField(label=_("Unidentified payment"), coerce=int)
    amount = _amount(help_text=_("Leave empty to place as much as is open."))
    reason = _reason()

    def __init__(self, *args, payments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment"].choices = [
            (p.pk, f"{p.booking_date} · {p.amount} · {p.payer_name or '?'} · {p.payment_ref or p.text[:30]}")
            for p in payments
        ]


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
        self.fields["invoice"].choices = [(i.pk, f"{i.invoice_no} ({i.due_date})") for i in invoices]


class DeceasedForm(forms.Form):
    reason = _reason()


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
