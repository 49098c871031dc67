"""Claims held for want of someone to address (ledger/addressees.py, seeds 001 section 2.2).

A minor with no guardian and no other payer is never chased in their own name: the claim is held
(status `held`, a `held` claim event) and waits in 360's worklist of minors; once a guardian or payer is
given, the next business day resumes it (a `resumed` event) and it takes its step then.
"""

from datetime import date

from django.db.models import Q
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus
from ledger.addressees import MINOR_AGE, minor_born_after
from ledger.models import Ledger
from ledger.services.common import _actor_fields


def claims_hold(*, ledger: Ledger, held: list, as_of: date, actor) -> int:
    """Hold the due claims (`_Due` items) of minors with no guardian or other payer; one event each."""
    if not held:
        return 0
    now = timezone.now()
    ids = [d.claim_id for d in held]
    count = Claim.objects.filter(id__in=ids, status=ClaimStatus.ACTIVE).update(
        status=ClaimStatus.HELD, next_on=None, updated_at=now
    )
    created_by_id, actor_label = _actor_fields(actor)
    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            ledger_id=ledger.id,
            claim_id=d.claim_id,
            invoice_id=d.invoice_id,
            kind=ClaimEventKind.HELD,
            step_kind=d.level,
            booking_date=as_of,
            created_by_id=created_by_id,
            actor=actor_label,
            created_at=now,
            reason=f"invoice {d.invoice_no}: the debtor is under {MINOR_AGE} and no guardian or other payer is given",
        )  # fmt: skip
        for d in held
    )
    return count


def claims_resume(*, ledger: Ledger, as_of: date, actor) -> int:
    """Resume the held claims that have someone to address now (a guardian or payer was given, or the
    debtor came of age); the day's run then takes their step if it is due."""
    born_after = minor_born_after(as_of)
    resumable = list(
        Claim.objects.filter(ledger=ledger, status=ClaimStatus.HELD)
        .filter(
            Q(invoice__payer__isnull=False)
            | Q(invoice__customer__guardian__isnull=False)
            | Q(invoice__customer__birth_date__isnull=True)
            | Q(invoice__customer__birth_date__lte=born_after)
        )
        .select_related("invoice__customer__guardian", "invoice__payer")
        .order_by("id")
    )
    if not resumable:
        return 0
    now = timezone.now()
    Claim.objects.filter(id__in=[c.id for c in resumable], status=ClaimStatus.HELD).update(
        status=ClaimStatus.ACTIVE,
        next_on=as_of,
        updated_at=now,  # the step it waited for is due today
    )
    created_by_id, actor_label = _actor_fields(actor)

    def why(claim) -> str:
        invoice = claim.invoice
        if invoice.payer_id:
            return f"addressed to the other payer {invoice.payer.customer_no}"
        if invoice.customer.guardian_id:
            return f"addressed to the guardian {invoice.customer.guardian.customer_no}"
        return f"the debtor is {MINOR_AGE} or older"

    ClaimEvent.objects.bulk_create(
        ClaimEvent(
            ledger_id=ledger.id,
            claim_id=c.id,
            invoice_id=c.invoice_id,
            kind=ClaimEventKind.RESUMED,
            step_kind=c.level,
            booking_date=as_of,
            reason=why(c),
            created_by_id=created_by_id,
            actor=actor_label,
            created_at=now,
        )  # fmt: skip
        for c in resumable
    )
    return len(resumable)
