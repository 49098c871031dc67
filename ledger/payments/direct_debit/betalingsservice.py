"""Betalingsservice (Denmark, Nets): the collection delivery out."""

from __future__ import annotations

from datetime import date

from ledger.models import (
    Ledger,
)
from ledger.payments.bankfiles import betalingsservice
from ledger.payments.direct_debit.common import _Claim, _claim_file_invalid, _nets_id


def betalingsservice_delivery(
    *, ledger: Ledger, claims: list[_Claim], delivery_id: str, as_of: date
) -> bytes:
    """The Betalingsservice collection delivery (BS002, section 0112 of 0280 records, BS092, BS992) for
    the claims; read back (counts and totals checked) before it is handed out."""
    items = [
        betalingsservice.Collection(
            customer_no=c.payer,
            agreement_no=c.agreement_no,
            amount=c.amount,
            debit_date=c.due_date,
            reference=c.kid,
        )
        for c in claims
    ]
    try:
        content = betalingsservice.collection_delivery(
            cvr=_nets_id("NETS_BS_CVR", "0" * 8, 8),
            pbs_no=_nets_id("NETS_BS_PBS_NO", "0" * 8, 8),
            debtor_group=_nets_id("NETS_BS_DEBTOR_GROUP", "00001", 5),
            delivery_id=delivery_id,
            day=as_of,
            collections=items,
        )
        back = betalingsservice.parse_delivery(content)
    except ValueError as exc:
        raise _claim_file_invalid(exc) from exc
    want = [(i.customer_no, i.agreement_no or "0", i.amount, i.debit_date, i.reference) for i in items]
    got = [(p.customer_no, p.agreement_no, p.amount, p.debit_date, p.reference) for p in back.payments]
    if got != want:
        raise _claim_file_invalid(ValueError("the records read back differ from the claims"))
    return content
