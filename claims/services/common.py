"""What the claim services share: the system actor, the lock, and how steps show in events and documents."""

from pathlib import Path

from claims.models import (
    FeeRule,
    StepKind,
)
from ledger.models import (
    InvoiceEventKind,
)

DEFAULT_PROCESSES = Path(__file__).resolve().parent.parent / "data" / "process.json"
SYSTEM_ACTOR = "system:claims"
# pg_advisory_xact_lock namespace of the daily escalation (ledger/payments/direct_debit/ uses its own).
ESCALATION_LOCK = 5001

STEP_EVENT = {
    StepKind.LATE_FEE: InvoiceEventKind.LATE_FEE_CHARGED,
    StepKind.SMS_REMINDER: InvoiceEventKind.SMS_REMINDER_SENT,
    StepKind.REMINDER: InvoiceEventKind.REMINDER_SENT,
    StepKind.COLLECTION_NOTICE: InvoiceEventKind.COLLECTION_NOTICE_SENT,
    StepKind.PAYMENT_DEMAND: InvoiceEventKind.MOVED_TO_COLLECTION,
    StepKind.CALL_TASK: InvoiceEventKind.CALL_TASK_CREATED,
    StepKind.HEAVY_FEE: InvoiceEventKind.HEAVY_FEE_CHARGED,
    StepKind.LEGAL_NOTICE: InvoiceEventKind.LEGAL_NOTICE_SENT,
    StepKind.LEGAL_ACTION: InvoiceEventKind.LEGAL_ACTION_TAKEN,
    StepKind.SURVEILLANCE: InvoiceEventKind.MOVED_TO_SURVEILLANCE,
    StepKind.FOREIGN_HANDOVER: InvoiceEventKind.HANDED_TO_FOREIGN_PARTNER,
}

# The document each step's letter is (distribution/ renders and sends it).
STEP_DOCUMENT = {
    StepKind.LATE_FEE: "late_fee_notice",
    StepKind.SMS_REMINDER: "sms_reminder",
    StepKind.REMINDER: "reminder",
    StepKind.COLLECTION_NOTICE: "collection_notice",
    StepKind.PAYMENT_DEMAND: "payment_demand",
    StepKind.LEGAL_NOTICE: "legal_notice",
}

REMINDER_FEE_RULES = {FeeRule.REMINDER}
COLLECTION_FEE_RULES = {FeeRule.COLLECTION_LIGHT, FeeRule.COLLECTION_HEAVY}
