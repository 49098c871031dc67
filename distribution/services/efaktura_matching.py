"""The eFaktura 2.0 match of a Norwegian private customer (distribution/efaktura.py): looked up in the
alias register and recorded on the customer, for the channel choice and for 360."""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from distribution.efaktura import Aliases, Answer, efaktura_register
from distribution.models import EfakturaMatch
from ledger.models import Customer, LegalEntity


def efaktura_match_needed(customer: Customer, country: str) -> bool:
    """eFaktura 2.0 is the Norwegian online banks' and for private customers only."""
    return country == "NO" and customer.legal_entity == LegalEntity.PRIVATE


def efaktura_match(*, customer: Customer, today: date, fresh_days: int | None = None) -> EfakturaMatch:
    """The customer's match, looked up again when the last answer is older than `fresh_days`
    (EFAKTURA_MATCH_DAYS): a customer who says yes to all in the bank is found within that many days.
    A register that cannot answer is recorded as no match, with its error: the document goes by the
    next channel instead of waiting."""
    fresh_days = settings.EFAKTURA_MATCH_DAYS if fresh_days is None else fresh_days
    known = EfakturaMatch.objects.filter(customer=customer).first()
    if known is not None and known.checked_on > today - timedelta(days=fresh_days):
        return known
    try:
        answer = efaktura_register().lookup(Aliases.of(customer))
    except (OSError, ValueError, KeyError, TypeError) as exc:  # an unreadable or malformed register
        answer = Answer(reason=f"the eFaktura register could not answer: {type(exc).__name__}: {exc}"[:300])
    with transaction.atomic():
        match, _ = EfakturaMatch.objects.update_or_create(
            customer=customer,
            defaults={"ledger_id": customer.ledger_id, "receiver_id": answer.receiver_id,
                      "matched_by": answer.matched_by, "accepts_all": answer.accepts_all,
                      "reason": answer.reason[:300], "checked_on": today, "checked_at": timezone.now()},
        )  # fmt: skip
    return match
