"""Operator changes to one customer: deceased, a new legal address, a guardian. Each is recorded as a customer event
(the Customer Journal reports it) with who and why. Bulk creation and updates are services.customers_upsert."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ledger.services.common import _actor_fields
from ledger.services.customers import LEGAL_ADDRESS_FIELDS

from .addresses import address_clean
from .errors import InvalidTransition, ValidationFailed
from .models import Customer, CustomerEvent, CustomerEventKind, CustomerStatus, User


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().select_related("ledger").get(pk=customer.pk)


def _event(customer, *, kind, old, new, reason, actor, booking_date) -> CustomerEvent:
    created_by_id, actor_label = _actor_fields(actor)
    return CustomerEvent.objects.create(
        ledger_id=customer.ledger_id,
        customer=customer,
        kind=kind,
        booking_date=booking_date,
        old_value=old,
        new_value=new,
        reason=reason[:500],
        created_by_id=created_by_id,
        actor=actor_label,
    )


def customer_mark_deceased(
    *, customer: Customer, actor: User | str | None, reason: str, booking_date: date | None = None
) -> Customer:
    """The customer has died: recorded for the Customer Journal; the claims stay for the estate."""
    if not reason.strip():
        raise ValidationFailed("give a reason (e.g. the source of the information)", code="reason_required",
                               field="reason")  # fmt: skip
    with transaction.atomic():
        customer = _lock(customer)
        if customer.status == CustomerStatus.DECEASED:
            raise InvalidTransition(
                f"customer {customer.customer_no} is already deceased", code="already_deceased"
            )
        old = customer.status
        customer.status = CustomerStatus.DECEASED
        customer.updated_at = timezone.now()
        customer.save(update_fields=["status", "updated_at"])
        _event(customer, kind=CustomerEventKind.STATUS_CHANGED, old={"status": old},
               new={"status": customer.status}, reason=reason.strip(), actor=actor,
               booking_date=booking_date or customer.ledger.today())  # fmt: skip
    return customer


def customer_address_change(
    *,
    customer: Customer,
    actor: User | str | None,
    address_line1: str,
    postal_code: str,
    city: str,
    country: str,
    address_line2: str = "",
    co_address: str = "",
    reason: str = "",
    booking_date: date | None = None,
) -> Customer:
    """A new legal address (given by the customer, the post or a register): a LEGAL_ADDRESS_CHANGED event
    with the old and the new address, as a CUSIN file's new address is recorded."""
    new = {
        "address_line1": address_line1.strip(),
        "address_line2": address_line2.strip(),
        "co_address": co_address.strip(),
        "postal_code": postal_code.strip(),
        "city": city.strip(),
        "country": country,
    }
    for name in ("address_line1", "postal_code", "city"):
        if not new[name]:
            raise ValidationFailed(f"{name} is required for a new address", code="missing_field", field=name)
    if not country:
        raise ValidationFailed("country is required for a new address", code="missing_field", field="country")
    new.update(address_clean({"country": country, "postal_code": new["postal_code"]},
                             default_country=customer.ledger.country))  # fmt: skip
    with transaction.atomic():
        customer = _lock(customer)
        old_address = {name: getattr(customer, name) for name in LEGAL_ADDRESS_FIELDS}
        for name, value in new.items():
            setattr(customer, name, value)
        new_address = {name: getattr(customer, name) for name in LEGAL_ADDRESS_FIELDS}
        if new_address == old_address:
            raise ValidationFailed("the address is the one registered", code="address_unchanged")
        customer.updated_at = timezone.now()
        customer.save(update_fields=[*new, "updated_at"])
        _event(customer, kind=CustomerEventKind.LEGAL_ADDRESS_CHANGED, old=old_address, new=new_address,
               reason=reason.strip() or "new address registered by an operator", actor=actor,
               booking_date=booking_date or customer.ledger.today())  # fmt: skip
    return customer


def customer_guardian_set(
    *,
    customer: Customer,
    actor: User | str | None,
    guardian_customer_no: str,
    reason: str = "",
    booking_date: date | None = None,
) -> Customer:
    """Give a minor their guardian (a customer of the same ledger), or none ("" clears it): the reminders
    and collection go to the guardian from the next business day (claims held for want of one resume).
    A GUARDIAN_CHANGED event with the old and the new guardian."""
    guardian_customer_no = guardian_customer_no.strip()
    with transaction.atomic():
        customer = _lock(customer)
        guardian = None
        if guardian_customer_no:
            guardian = Customer.objects.filter(ledger_id=customer.ledger_id, customer_no=guardian_customer_no).first()
            if guardian is None:
                raise ValidationFailed(
                    f"{guardian_customer_no} is not a customer of ledger {customer.ledger.company_no}",
                    code="unknown_guardian", field="guardian_customer_no", params={"number": guardian_customer_no},
                )  # fmt: skip
            if guardian.pk == customer.pk:
                raise ValidationFailed("a customer cannot be their own guardian", code="guardian_is_customer",
                                       field="guardian_customer_no")  # fmt: skip
        if customer.guardian_id == (guardian.pk if guardian else None):
            raise ValidationFailed("that is the guardian registered", code="guardian_unchanged",
                                   field="guardian_customer_no")  # fmt: skip
        old = customer.guardian.customer_no if customer.guardian_id else None
        customer.guardian = guardian
        customer.updated_at = timezone.now()
        customer.save(update_fields=["guardian", "updated_at"])
        _event(customer, kind=CustomerEventKind.GUARDIAN_CHANGED, old={"guardian": old},
               new={"guardian": guardian.customer_no if guardian else None},
               reason=reason.strip() or "guardian registered by an operator", actor=actor,
               booking_date=booking_date or customer.ledger.today())  # fmt: skip
    return customer
