"""Reads of the worklists (section Services): complaints, returned paper mail, unidentified payments,
call tasks, respite requests and claims held on minors of one ledger, each with who has taken which item. An item leaves its list by its own state
(the dispute closed, the return resolved, the payment placed, the call logged), never by a flag here."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum

from claims.models import Claim, ClaimEvent, ClaimEventKind, ClaimStatus, StepKind
from distribution.models import ReturnedDocument, ReturnStatus
from ledger.errors import NotFound
from ledger.models import Invoice, InvoiceEvent, InvoiceEventKind, InvoiceStatus, Ledger, Payment, Posting
from ledger.payments.selectors import unidentified_payments

from .models import WorklistClaim, WorklistKind

PAGE_SIZE = 25


def _complaints(ledger: Ledger) -> QuerySet:
    opened = InvoiceEvent.objects.filter(
        invoice=OuterRef("pk"), kind=InvoiceEventKind.DISPUTE_OPENED
    ).order_by("-id")
    return (
        Invoice.objects.filter(ledger=ledger, status=InvoiceStatus.DISPUTED)
        .select_related("customer")
        .annotate(
            complaint=Subquery(opened.values("reason")[:1]),
            complained_at=Subquery(opened.values("created_at")[:1]),
            complained_by=Subquery(opened.values("actor")[:1]),
        )
        .order_by("complained_at", "id")
    )


def _returned_mail(ledger: Ledger) -> QuerySet:
    return (
        ReturnedDocument.objects.filter(ledger=ledger, status=ReturnStatus.OPEN)
        .select_related("document", "customer", "invoice")
        .order_by("created_at", "id")
    )


def _unidentified(ledger: Ledger) -> QuerySet:
    return unidentified_payments(ledger=ledger)


def _calls(ledger: Ledger) -> QuerySet:
    # A later call step of the same claim replaces an earlier one nobody logged: one task per claim.
    later = ClaimEvent.objects.filter(
        claim_id=OuterRef("claim_id"),
        kind=ClaimEventKind.STEP,
        step_kind=StepKind.CALL_TASK,
        pk__gt=OuterRef("pk"),
    )
    open_amount = (
        Posting.objects.filter(invoice_id=OuterRef("invoice_id"))
        .exclude(component="")
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    # Only claims still being chased: a stopped or recalled claim, or a disputed or closed invoice, has
    # nobody to call.
    return (
        ClaimEvent.objects.filter(ledger=ledger, kind=ClaimEventKind.STEP, step_kind=StepKind.CALL_TASK)
        .filter(call_outcome__isnull=True, claim__status=ClaimStatus.ACTIVE)
        .exclude(Exists(later))
        .exclude(invoice__status__in=[InvoiceStatus.CLOSED, InvoiceStatus.DISPUTED])
        .annotate(open_amount=Subquery(open_amount))
        .select_related("invoice__customer")
        .order_by("booking_date", "id")
    )


def _respite_requests(ledger: Ledger) -> QuerySet:
    # The requests beyond the client's automatic limit that the invoice portal leaves for an operator.
    from invoiceportal.selectors import respite_worklist

    return respite_worklist(ledger=ledger)


def _minors(ledger: Ledger) -> QuerySet:
    # Claims held on a minor with nobody to address (claims/services/addressees.py): a guardian given
    # (or a payer, or the 16th birthday) takes the claim out of the list at once; the next business day
    # resumes it.
    held_on = ClaimEvent.objects.filter(claim_id=OuterRef("pk"), kind=ClaimEventKind.HELD).order_by("-id")
    return (
        Claim.objects.filter(ledger=ledger, status=ClaimStatus.HELD, invoice__payer__isnull=True,
                             invoice__customer__guardian__isnull=True)
        .select_related("invoice__customer")
        .annotate(held_on=Subquery(held_on.values("booking_date")[:1]))
        .order_by("held_on", "id")
    )  # fmt: skip


QUERIES = {
    WorklistKind.COMPLAINTS: _complaints,
    WorklistKind.RETURNED_MAIL: _returned_mail,
    WorklistKind.UNIDENTIFIED: _unidentified,
    WorklistKind.CALLS: _calls,
    WorklistKind.RESPITE_REQUESTS: _respite_requests,
    WorklistKind.MINORS: _minors,
}


@dataclass(frozen=True)
class WorklistPage:
    kind: str
    rows: list[tuple[object, WorklistClaim | None]]
    page: int
    has_next: bool


def worklist_page(
    *, ledger: Ledger, kind: str, page: int = 1, only_taken_by=None, only_free: bool = False
) -> WorklistPage:
    if kind not in QUERIES:
        raise NotFound(f"no worklist {kind!r}", code="worklist_not_found")
    qs = QUERIES[kind](ledger)
    taken = WorklistClaim.objects.filter(kind=kind, item_id=OuterRef("pk"))
    if only_taken_by is not None:
        qs = qs.filter(
            pk__in=WorklistClaim.objects.filter(kind=kind, taken_by=only_taken_by).values("item_id")
        )
    elif only_free:
        qs = qs.exclude(Q(pk__in=Subquery(taken.values("item_id"))))
    offset = (page - 1) * PAGE_SIZE
    items = list(qs[offset : offset + PAGE_SIZE + 1])
    claims = {
        claim.item_id: claim
        for claim in WorklistClaim.objects.filter(
            kind=kind, item_id__in=[i.pk for i in items]
        ).select_related("taken_by")
    }
    return WorklistPage(kind=kind, rows=[(i, claims.get(i.pk)) for i in items[:PAGE_SIZE]], page=page,
                        has_next=len(items) > PAGE_SIZE)  # fmt: skip


def worklist_item(*, ledger: Ledger, kind: str, item_id: int):
    """One item still in the ledger's list, with its take; NotFound otherwise (another ledger's, or done)."""
    if kind not in QUERIES:
        raise NotFound(f"no worklist {kind!r}", code="worklist_not_found")
    item = QUERIES[kind](ledger).filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"item {item_id} is not in the {kind} worklist of ledger {ledger.company_no}",
                       code="worklist_item_not_found")  # fmt: skip
    claim = WorklistClaim.objects.filter(kind=kind, item_id=item_id).select_related("taken_by").first()
    return item, claim


def worklist_counts(*, ledger: Ledger) -> dict[str, int]:
    """The navigation's counts: one count per list, each on an index."""
    return {
        WorklistKind.COMPLAINTS: Invoice.objects.filter(ledger=ledger, status=InvoiceStatus.DISPUTED).count(),
        WorklistKind.RETURNED_MAIL: ReturnedDocument.objects.filter(
            ledger=ledger, status=ReturnStatus.OPEN
        ).count(),
        WorklistKind.UNIDENTIFIED: Payment.objects.filter(
            ledger=ledger, status=Payment.Status.UNIDENTIFIED
        ).count(),
        WorklistKind.CALLS: _calls(ledger).count(),
        WorklistKind.RESPITE_REQUESTS: _respite_requests(ledger).count(),
        WorklistKind.MINORS: _minors(ledger).count(),
    }
