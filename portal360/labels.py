"""The domain's codes as operators read them, in their language. A code not listed shows as the model's
own label (English), so a new kind never breaks a page."""

from django.utils.translation import gettext_lazy as _

INVOICE_STATUS = {
    "open": _("Open"),
    "respite": _("Respite"),
    "disputed": _("Disputed"),
    "closed": _("Closed"),
}

CLAIM_LEVEL = {
    "due_date": _("Before or at the due date"),
    "": _("Before or at the due date"),
    "sms_reminder": _("Friendly SMS sent"),
    "reminder": _("Reminder"),
    "late_fee": _("Late fee"),
    "collection_notice": _("Collection notice"),
    "payment_demand": _("Collection: payment demand"),
    "call_task": _("Collection: call"),
    "heavy_fee": _("Collection: heavy fee"),
    "legal_notice": _("Collection: notice before legal action"),
    "legal_action": _("Legal action"),
    "surveillance": _("Long-term surveillance"),
    "foreign_handover": _("Foreign collection partner"),
}

NEXT_EVENT = {
    "sms_reminder": _("Friendly reminder SMS"),
    "reminder": _("Reminder"),
    "late_fee": _("Late fee"),
    "collection_notice": _("Collection notice"),
    "payment_demand": _("Payment demand: to collection"),
    "call_task": _("Call"),
    "heavy_fee": _("Heavy collection fee"),
    "legal_notice": _("Notice before legal action"),
    "legal_action": _("Legal action"),
    "surveillance": _("Long-term surveillance"),
    "foreign_handover": _("Hand-over to the foreign collection partner"),
    "respite_ends": _("Respite ends"),
}

CLAIM_STATUS = {
    "active": _("Active"),
    "closed": _("Closed"),
    "finished": _("Timeline finished"),
    "handed_over": _("Handed over"),
    "stopped": _("Collection stopped"),
    "recalled": _("Recalled from collection"),
    "held": _("Held: a minor with nobody to address"),
}

DOCUMENT_KIND = {
    "invoice": _("Invoice"),
    "sms_reminder": _("SMS reminder"),
    "reminder": _("Reminder"),
    "collection_notice": _("Collection notice"),
    "payment_demand": _("Payment demand"),
    "legal_notice": _("Notice before legal action"),
    "debt_summary": _("Debt summary"),
    "cost_claim": _("Cost claim"),
    "payout_notice": _("Payout notice"),
    "late_fee_notice": _("Late fee notice"),
}

DOCUMENT_STATUS = {
    "queued": _("Queued"),
    "processing": _("Being sent"),
    "retry": _("Will be retried"),
    "awaiting_print": _("Waiting for print"),
    "sent": _("Sent"),
    "archived": _("Archived only"),
    "failed": _("Failed"),
    "returned": _("Returned"),
    "cancelled": _("Not sent"),
}

INVOICE_EVENT = {
    "registered": _("Registered"),
    "credited": _("Credited"),
    "written_off": _("Written off"),
    "respite_set": _("Respite set"),
    "respite_cleared": _("Respite removed"),
    "dispute_opened": _("Dispute registered"),
    "dispute_closed": _("Dispute resolved"),
    "closed": _("Closed"),
    "paid": _("Paid"),
    "partially_paid": _("Partly paid"),
    "reopened": _("Reopened"),
    "payment_reversed": _("Payment reversed"),
    "sms_reminder_sent": _("Friendly SMS sent"),
    "reminder_sent": _("Reminder sent"),
    "collection_notice_sent": _("Collection notice sent"),
    "moved_to_collection": _("Moved to collection"),
    "call_task_created": _("Call task created"),
    "heavy_fee_charged": _("Heavy fee charged"),
    "legal_notice_sent": _("Notice before legal action sent"),
    "legal_action_taken": _("Legal action taken"),
    "moved_to_surveillance": _("Moved to surveillance"),
    "interest_booked": _("Interest booked"),
    "collection_stopped": _("Collection stopped"),
    "collection_recalled": _("Recalled from collection"),
    "direct_debit_sent": _("Direct debit sent"),
    "direct_debit_failed": _("Direct debit failed"),
    "direct_debit_exhausted": _("Direct debit given up"),
    "direct_debit_cancelled": _("Direct debit cancelled"),
    "costs_carried": _("Costs carried to the next invoice"),
    "handed_to_foreign_partner": _("Handed to the foreign collection partner"),
    "late_fee_charged": _("Late fee charged"),
}

CUSTOMER_EVENT = {
    "created": _("Created"),
    "legal_address_changed": _("New legal address"),
    "legal_entity_changed": _("Legal entity changed"),
    "guardian_changed": _("Guardian changed"),
    "consent_activated": _("Consent activated"),
    "consent_cancelled": _("Consent cancelled"),
    "consent_changed": _("Consent changed"),
    "status_changed": _("Status changed"),
    "returned_mail": _("Returned mail"),
    "notification_sent": _("Notification sent"),
}

CHANNEL = {
    "einvoice_b2c": _("eFaktura (B2C)"),
    "kivra": "Kivra",
    "email": _("E-mail"),
    "sms": "SMS",
    "paper": _("Paper"),
    "einvoice_b2b": "EHF / PEPPOL",
    "archive_only": _("Archive only"),
}

CONSENT = {
    "autogiro_se": _("Autogiro (Sweden)"),
    "avtalegiro_no": _("AvtaleGiro (Norway)"),
    "betalingsservice_dk": _("Betalingsservice (Denmark)"),
    "einvoice_b2c_se": _("E-invoice (Sweden)"),
    "einvoice_b2c_no": _("eFaktura (Norway)"),
    "einvoice_b2c_fi": _("E-invoice (Finland)"),
    "kivra": "Kivra",
}

FILE_STATUS = {
    "processing": _("Being imported"),
    "accepted": _("Accepted"),
    "partially_accepted": _("Partially accepted"),
    "rejected": _("Rejected"),
}

LEGAL_ENTITY = {"private": _("Private person"), "business": _("Business")}
CUSTOMER_STATUS = {"active": _("Active"), "deceased": _("Deceased")}

AUDIT_KIND = {
    "ledger_rules": _("Ledger rules"),
    "claim_settings": _("Claim settings"),
    "claim_steps": _("The claim process"),
    "document_profile": _("Distribution overrides"),
    "user": _("User"),
    "api_token": _("API token"),
}
AUDIT_ACTION = {
    "change": _("changed"),
    "create": _("created"),
    "invite": _("invited"),
    "revoke": _("revoked"),
    "second_factor_reset": _("second factor reset"),
}

# The causes of credits and write-offs (ledger.models.Cause: the Accounting Detail's codes).
CAUSE = {
    "Bankruptcy": _("Bankruptcy"),
    "CompositionArrangement": _("Composition with creditors"),
    "Settlement": _("Settlement agreed"),
    "WrongAddress": _("Wrong address"),
    "Complaint": _("Complaint"),
    "WrongRegNo": _("Wrong national id or organisation number"),
    "UnderAge": _("Under age"),
    "Deceased": _("Deceased"),
    "Fraud": _("Fraud"),
    "Dispute": _("Dispute"),
    "Monitoring": _("Long-term monitoring"),
    "ApprovedDiff": _("Approved difference"),
}

CLAIM_EVENT = {
    "step": _("Step taken"),
    "skipped": _("Step skipped"),
    "postponed": _("Postponed by a rule"),
    "paused": _("Moved by a respite or dispute"),
    "interest": _("Interest booked"),
    "closed": _("Claim closed"),
    "stopped": _("Collection stopped on the client's request"),
    "recalled": _("Recalled from collection on the client's request"),
    "held": _("Held: a minor with no guardian or other payer"),
    "resumed": _("Resumed: a guardian or other payer was given"),
}

MANDATE_STATUS = {
    "pending": _("waiting for the next transmission to Bankgirot"),
    "sent": _("sent to Bankgirot, waiting for its answer"),
    "approved": _("approved by Bankgirot"),
    "refused": _("refused by Bankgirot"),
}

EFAKTURA_MATCHED_BY = {
    "national_id": _("national id"),
    "phone+email": _("mobile and e-mail"),
    "phone+postal_code": _("mobile and postcode"),
    "email+postal_code": _("e-mail and postcode"),
    "phone+email+postal_code": _("mobile, e-mail and postcode"),
}

ACTION_KIND = {"change": _("changed"), "reveal": _("read")}
ACTION_CHANNEL = {"360": "360", "api": _("API"), "portal": _("Invoice portal"), "admin": _("Admin"), "other": _("Other")}

TABLES = {
    "action_kind": ACTION_KIND,
    "action_channel": ACTION_CHANNEL,
    "claim_event": CLAIM_EVENT,
    "efaktura_matched_by": EFAKTURA_MATCHED_BY,
    "mandate_status": MANDATE_STATUS,
    "cause": CAUSE,
    "audit_kind": AUDIT_KIND,
    "audit_action": AUDIT_ACTION,
    "customer_status": CUSTOMER_STATUS,
    "legal_entity": LEGAL_ENTITY,
    "consent": CONSENT,
    "file_status": FILE_STATUS,
    "channel": CHANNEL,
    "invoice_status": INVOICE_STATUS,
    "claim_level": CLAIM_LEVEL,
    "next_event": NEXT_EVENT,
    "claim_status": CLAIM_STATUS,
    "document_kind": DOCUMENT_KIND,
    "document_status": DOCUMENT_STATUS,
    "invoice_event": INVOICE_EVENT,
    "customer_event": CUSTOMER_EVENT,
}


def label(code, table: str) -> str:
    text = TABLES[table].get(code or "")
    return str(text) if text is not None else str(code or "")


WORKLIST = {
    "complaints": _("Complaints and disputes"),
    "returned_mail": _("Returned paper mail"),
    "unidentified": _("Unidentified payments"),
    "calls": _("Call tasks"),
    "respite_requests": _("Respite requests"),
    "minors": _("Minors without a guardian"),
}


# The settings an audit event names, as the forms call them.
SETTING = {
    "default_reference_text": _("Reference text on invoices"),
    "settle_surplus_against_oldest": _("Settle a surplus against the oldest overdue invoice"),
    "allocation_order": _("Allocation order of payments"),
    "payment_terms_days": _("Payment terms (days)"),
    "max_respite_days": _("Longest respite (days from the day it is given)"),
    "business_late_fee": _("Business customers get the late fee instead of reminder fees"),
    "reminder_fee_agreed": _("The reminder fee is agreed with the customers (Sweden)"),
    "unpaid_costs": _("Fees and interest left after the principal is paid"),
    "interest_charged": _("Late-payment interest is charged on overdue invoices"),
    "offset_days": _("Days"),
    "deadline_days": _("Deadline"),
    "min_open_amount": _("Minimum"),
    "fixed_fee": _("Fee"),
    "paper_kinds": _("Always on paper"),
    "retention_years": _("Kept for (years)"),
    "role": _("Role"),
    "active": _("Active"),
    "email": _("E-mail"),
    "ledger": _("Ledger"),
    "write": _("May write (register invoices, act on them)"),
    "name": _("Name"),
}
SETTING_VALUE = {
    "capital_first": _("Capital, then fees, then interest"),
    "costs_first": _("Fees, then interest, then capital"),
    "write_off": _("Write them off"),
    "keep_chasing": _("Keep chasing them as a cost claim"),
    "next_invoice": _("Carry them to the customer's next invoice"),
    "read_only": _("Read only"),
    "operator": _("Operator"),
    "client_admin": _("Client administrator"),
    "all": _("Every ledger of the client"),
}
