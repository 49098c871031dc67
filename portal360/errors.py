"""The services' coded errors in the operator's language. A code not listed shows the service's own
message (English), so no guard error is ever lost."""

from datetime import date

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError

MESSAGES = {
    "invoice_closed": _("The invoice is closed: nothing more can be done to it."),
    "invoice_disputed": _("The invoice is disputed: resolve the dispute first."),
    "respite_date_not_future": _("The respite date must be after today."),
    "respite_too_long": _("The longest respite this ledger allows is %(days)s days, until %(until)s."),
    "no_respite": _("The invoice has no respite to remove."),
    "already_disputed": _("The invoice is already disputed."),
    "not_disputed": _("The invoice is not disputed."),
    "credit_exceeds_open": _("The credit is more than the open principal."),
    "write_off_exceeds_open": _("The write-off is more than the open amount."),
    "nothing_open": _("Nothing is open on the invoice."),
    "invalid_cause": _("Choose a cause from the list."),
    "amount_not_positive": _("The amount must be more than zero."),
    "reason_required": _("Give a reason."),
    "not_unidentified": _("The payment is no longer unidentified."),
    "not_in_collection": _("The claim is not in collection."),
    "claim_not_active": _("The claim's process has already ended."),
    "no_credit_balance": _("The customer has no credit balance."),
    "credit_exceeds_balance": _("The amount is more than the credit balance."),
    "no_bank_account": _("Give the bank account to pay the refund to."),
    "document_not_archived": _("The document has not been archived yet."),
    "already_deceased": _("The customer is already marked as deceased."),
}


def error_text(error: LedgerError) -> str:
    text = MESSAGES.get(error.code)
    if text is None:
        return error.message
    if not error.params:
        return str(text)
    return str(text) % {name: _shown(value) for name, value in error.params.items()}


def _shown(value):
    """A date as the active language writes it (10.03.2027 in Norwegian); other values as they are."""
    return formats.date_format(value, "SHORT_DATE_FORMAT") if isinstance(value, date) else value
