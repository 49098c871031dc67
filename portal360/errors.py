"""The services' coded errors in the operator's language. A code not listed shows the service's own
message (English), so no guard error is ever lost."""

from datetime import date
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from ledger.errors import LedgerError

MESSAGES = {
    "invoice_closed": _("The invoice is closed: nothing more can be done to it."),
    "invoice_disputed": _("The invoice is disputed: resolve the dispute first."),
    "respite_date_not_future": _("The respite date must be after today."),
    "exceeds_credit": _("%(amount)s is more than the credit balance, %(credit)s."),
    "invalid_bank_account": _("%(account)s is not a valid bank account number: check the digits, or give an IBAN."),
    "bank_account_missing": _("Give the bank account to pay the refund to."),
    "invalid_country": _("%(country)s is not a country code (ISO 3166, e.g. NO, SE, DK)."),
    "invalid_postcode": _("%(postcode)s is not a postcode of %(country)s."),
    "address_unchanged": _("The address is the one registered."),
    "unknown_guardian": _("%(number)s is not a customer of this ledger: register the guardian as a customer first."),
    "guardian_is_customer": _("A customer cannot be their own guardian."),
    "guardian_unchanged": _("That is the guardian registered."),
    "allocation_exceeds_open": _("The amount is more than what is open on the invoice."),
    "allocation_exceeds_unallocated": _("The amount is more than what is left of the payment."),
    "call_already_logged": _("This call is already logged."),
    "effective_in_past": _("A change takes effect today or later, not in the past."),
    "nothing_changed": _("Nothing to change: the values are the ones in force."),
    "no_credit": _("The customer has no credit balance."),
    "nothing_to_allocate": _("Nothing is left of the payment to place."),
    "nothing_to_refund": _("Nothing is left of the payment to refund."),
    "own_user": _("You cannot change your own role or deactivate yourself."),
    "payment_moved": _("The payment has been moved to another ledger."),
    "promise_needs_date": _("A promise to pay needs the day it was promised for."),
    "payment_not_misdirected": _("The payment's reference belongs to this ledger: there is nowhere to move it."),
    "payment_partly_allocated": _("Part of the payment is already placed: it cannot be moved whole."),
    "target_ledger_ambiguous": _("The reference matches several ledgers: place the payment by hand."),
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
    "incomplete_address": _("A new address needs the street, the postcode and the city."),
    "invalid_setting": _("That value is not allowed for this rule."),
    "invalid_step": _("The claim step is not valid: check its fee and its deadline."),
    "deadline_too_short": _("A step that charges a fee needs at least the statutory deadline."),
    "figure_missing": _("A statutory figure for this date is missing: our staff must add it before the claim can go on."),
    "document_not_sent": _("Only a document that went out has a copy to send."),
    "return_channel_mismatch": _("That kind of return does not fit the channel the document went by."),
    "return_not_open": _("The returned document has already been dealt with."),
    "invalid_outcome": _("Choose an outcome from the list."),
    "not_a_call_task": _("That is not a call task."),
    "credit_already_used": _("The payment's surplus has already been used."),
    "costs_other_customer": _("Costs go only to another invoice of the same customer."),
    "no_costs_in_arrear": _("Only costs left after the principal is paid can be carried."),
    "invalid_org_no": _("That is not a valid organisation number."),
    "invalid_edi_id": _("That is not a valid EDI identifier: an organisation number, or scheme:id."),
    "invalid_national_id": _("The national id is not valid, or not of the customer's legal entity."),
    "customer_not_found": _("There is no customer %(number)s in this ledger."),
    "invoice_not_found": _("There is no invoice %(number)s in this ledger."),
    "payment_not_found": _("There is no payment %(number)s in this ledger."),
}


def error_text(error: LedgerError) -> str:
    text = MESSAGES.get(error.code)
    if text is None:
        return error.message
    try:
        return str(text) % {name: _shown(value) for name, value in error.params.items()}
    except (KeyError, TypeError):  # a caller that did not give what the text names: its own words, whole
        return error.message


def _shown(value):
    """A date or an amount as the active language writes them (10.03.2027, 1 234,50 in Norwegian)."""
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return value
