"""Reads of direct debit."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from ledger.models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
    CustomerConsent,
    DirectDebitAttempt,
    DirectDebitStatus,
    Invoice,
    Ledger,
)
from ledger.payments.direct_debit.common import CONSENT_BY_KIND

# --- Reads ------------------------------------------------------------------------------------------------


def invoices_in_direct_debit(*, ledger: Ledger) -> QuerySet[Invoice]:
    """Invoices direct debit is still in charge of, which the reminder process should leave alone: a claim
    is out at the bank, or attempts failed and another one is due (fewer than the maximum, consent active).
    """
    attempts = DirectDebitAttempt.objects.filter(invoice=OuterRef("pk"))
    consenting = CustomerConsent.objects.filter(
        customer=OuterRef("customer_id"), kind__in=list(CONSENT_BY_KIND.values()), active=True
    )
    awaiting_retry = (
        Exists(attempts.filter(status=DirectDebitStatus.FAILED))
        & ~Exists(attempts.exclude(status=DirectDebitStatus.FAILED))
        & ~Exists(attempts.filter(attempt_no__gte=DIRECT_DEBIT_MAX_ATTEMPTS))
        & Exists(consenting)
    )
    return Invoice.objects.filter(ledger=ledger).filter(
        Exists(attempts.filter(status=DirectDebitStatus.SENT)) | awaiting_retry
    )
