"""Claims handed to the foreign collection partner: the day's hand-over file in the outbox."""

import json
from datetime import date

from claims.models import (
    ClaimEvent,
    ClaimEventKind,
    StepKind,
)
from ledger.models import (
    Ledger,
)
from ledger.outbox import company_dir, write_atomic
from ledger.selectors import invoice_balance


def foreign_handover_export(*, ledger: Ledger, as_of: date) -> str | None:
    """The claims handed to the foreign collection partner on `as_of`, as a file in the ledger's outbox
    for the partner (written after the day's transaction committed; once: an existing file is kept)."""
    events = (
        ClaimEvent.objects.filter(ledger=ledger, kind=ClaimEventKind.STEP, step_kind=StepKind.FOREIGN_HANDOVER,
                                  booking_date=as_of)
        .select_related("invoice__customer")
        .order_by("id")
    )  # fmt: skip
    rows = []
    for event in events:
        invoice, customer = event.invoice, event.invoice.customer
        balance = invoice_balance(invoice)
        rows.append(
            {
                "invoice_no": invoice.invoice_no, "payment_ref": invoice.payment_ref,
                "invoice_date": invoice.invoice_date.isoformat(), "due_date": invoice.due_date.isoformat(),
                "currency": invoice.currency, "capital": str(balance.capital), "fees": str(balance.fees),
                "interest": str(balance.interest), "customer_no": customer.customer_no, "name": customer.name,
                "national_id": customer.national_id, "address": [customer.address_line1, customer.address_line2],
                "postal_code": customer.postal_code, "city": customer.city, "country": customer.country,
                "email": customer.email, "phone": customer.phone,
            }
        )  # fmt: skip
    if not rows:
        return None
    path = (
        company_dir(ledger.company_no, "outbox")
        / f"FOREIGN_COLLECTION_{ledger.company_no}_{as_of:%Y%m%d}.json"
    )
    if not path.exists():
        document = {"ledger": ledger.company_no, "date": as_of.isoformat(), "claims": rows}
        write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"))
    return path.name
