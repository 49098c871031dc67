"""Documents of every kind for the demo (`portal360`'s demo command calls `demo_documents`)."""

from datetime import date, timedelta

from django.db import transaction

from distribution.services.queueing import DocumentRequest, documents_queue, invoice_documents_queue
from distribution.services.sending import documents_distribute
from ledger.models import Invoice, InvoiceStatus, Ledger
from ledger.selectors import invoices_with_balances

from .models import DocumentKind

# The claim letters, in the order of the claim process, each with the facts the claims run gives.
CLAIM_KINDS = (
    DocumentKind.SMS_REMINDER,
    DocumentKind.REMINDER,
    DocumentKind.COLLECTION_NOTICE,
    DocumentKind.PAYMENT_DEMAND,
    DocumentKind.LEGAL_NOTICE,
    DocumentKind.LATE_FEE_NOTICE,
    DocumentKind.COST_CLAIM,
)


def demo_documents(*, ledger: Ledger, as_of: date) -> dict:
    """Queue the invoices' documents and one document of every other kind on the ledger's open invoices,
    then distribute them. Idempotent: the source keys are fixed, a second call queues nothing new."""
    open_invoices = list(
        invoices_with_balances(Invoice.objects.filter(ledger=ledger).exclude(status=InvoiceStatus.CLOSED))
        .filter(open_amount__gt=0, invoice_date__lte=as_of)
        .order_by("due_date", "id")[: len(CLAIM_KINDS)]
    )
    requests = []
    deadline = (as_of + timedelta(days=14)).isoformat()
    with_costs = [i for i in open_invoices if i.fees + i.interest > 0]
    pairs = list(zip(CLAIM_KINDS, open_invoices * len(CLAIM_KINDS), strict=False))
    # A cost claim only makes sense (and is only sent) while fees or interest are open.
    pairs = [(k, with_costs[0] if k == DocumentKind.COST_CLAIM and with_costs else i) for k, i in pairs]
    for kind, invoice in pairs:
        requests.append(
            DocumentRequest(
                ledger_id=ledger.id,
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                kind=kind,
                booking_date=as_of,
                source_key=f"demo:{kind}:{invoice.id}",
                facts={
                    "fee": "35.00" if kind in ("reminder", "collection_notice") else "",
                    "deadline": deadline,
                    "interest_rate": "12.25",
                    "interest_from": (invoice.due_date + timedelta(days=1)).isoformat(),
                },
            )
        )
    if open_invoices:
        customer_id = open_invoices[0].customer_id
        requests += [
            DocumentRequest(
                ledger.id, customer_id, None, DocumentKind.DEBT_SUMMARY, as_of, "demo:debt_summary", {}
            ),
            DocumentRequest(
                ledger.id,
                customer_id,
                None,
                DocumentKind.PAYOUT_NOTICE,
                as_of,
                "demo:payout_notice",
                {"amount": "150.00", "account": "12345678903"},
            ),
        ]
    with transaction.atomic():
        queued = invoice_documents_queue(ledger=ledger, as_of=as_of) + documents_queue(requests=requests)
    return {"queued": queued, **documents_distribute(as_of=as_of, ledger=ledger)}
