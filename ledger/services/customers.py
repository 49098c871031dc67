"""Customers in bulk (`customers_upsert`) and one at a time: national ids, addresses, consents, the
Customer Journal's events."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ledger.addresses import address_clean
from ledger.bulk import _copy_field, _copy_json, _copy_lines, _int_array, _next_ids, customer_nos_in
from ledger.edi_ids import edi_id_clean
from ledger.errors import ValidationFailed
from ledger.models import (
    ConsentKind,
    Customer,
    CustomerConsent,
    CustomerEventKind,
    CustomerStatus,
    Ledger,
    LegalEntity,
    User,
)
from ledger.national_ids import InvalidNationalId, birth_date, national_id_check
from ledger.services.common import _actor_fields


@dataclass(frozen=True)
class CustomerInput:
    """A customer as a file or the API describes it. `consents` sets (True) or clears (False) consents.

    `legal_entity` "" means not given: the national id decides it (private without one). A caller that
    has checked the number itself (the CUSIN reader, for its record-level errors) says so with
    `national_id_checked`, and whether it inferred the entity with `legal_entity_inferred`."""

    customer_no: str
    name: str
    legal_entity: str = ""
    national_id: str = ""
    national_id_country: str = ""
    email: str = ""
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    co_address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    billing_address: dict = field(default_factory=dict)
    protected_identity: bool = False
    distribution_type: str = ""
    edi_van: str = ""
    edi_buyer_id: str = ""
    edi_seller_id: str = ""
    consents: dict[str, bool] = field(default_factory=dict)
    # A minor's guardian by customer number (a customer of the ledger, or one of the same call);
    # None: not given, as it was; "": none any more.
    guardian_customer_no: str | None = None
    national_id_checked: bool = False
    legal_entity_inferred: bool = False


# A change to any of these is a new legal address for the Customer Journal.
LEGAL_ADDRESS_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "co_address",
    "postal_code",
    "city",
    "country",
)
CUSTOMER_FIELDS = (
    "name", "legal_entity", "national_id", "national_id_country", "email", "phone", "address_line1",
    "address_line2", "co_address", "postal_code", "city", "country", "billing_address", "protected_identity",
    "distribution_type", "edi_van", "edi_buyer_id", "edi_seller_id",
)  # fmt: skip


def customer_fields(customer: Customer) -> dict:
    """The customer's current values, to send back through customer_upsert with some changed."""
    return {name: getattr(customer, name) for name in CUSTOMER_FIELDS}


# Decided here, not given as such: the birth date (from the national id) and the guardian (by number).
DERIVED_FIELDS = ("birth_date", "guardian_id")
CUSTOMER_COPY_COLUMNS = [
    "id", "ledger_id", "customer_no", *CUSTOMER_FIELDS, *DERIVED_FIELDS, "status", "last_reference_serial",
    "created_at", "updated_at",
]  # fmt: skip
CUSTOMER_EVENT_COPY_COLUMNS = [
    "ledger_id", "customer_id", "kind", "booking_date", "old_value", "new_value", "reason", "created_by_id",
    "actor", "created_at",
]  # fmt: skip


# Looked up once: the Choices' .values builds a new list on every access.
_LEGAL_ENTITIES = tuple(LegalEntity.values)
_CONSENT_KINDS = frozenset(ConsentKind.values)
# Customer(*values) takes the concrete fields in this order (positional: cheaper than keywords).
_CUSTOMER_CONCRETE_FIELDS = tuple(Customer._meta.concrete_fields)


def _customer_values(ledger: Ledger, item: CustomerInput) -> dict:
    if not item.customer_no or len(item.customer_no) > 30:
        raise ValidationFailed(
            f"customer_no must be 1-30 characters, got {item.customer_no!r}", field="customer_no"
        )
    if not item.name:
        raise ValidationFailed(
            f"customer {item.customer_no}: name is required", code="missing_field", field="name"
        )
    if item.legal_entity and item.legal_entity not in _LEGAL_ENTITIES:
        raise ValidationFailed(
            f"customer {item.customer_no}: unknown legal entity {item.legal_entity!r}", field="legal_entity"
        )
    unknown = set(item.consents) - _CONSENT_KINDS if item.consents else None
    if unknown:
        raise ValidationFailed(
            f"customer {item.customer_no}: unknown consent {sorted(unknown)}", field="consents"
        )
    values = {name: getattr(item, name) for name in CUSTOMER_FIELDS}
    what = f"customer {item.customer_no}: "
    values.update(address_clean({"country": item.country, "postal_code": item.postal_code},
                                default_country=ledger.country, what=what))  # fmt: skip
    values["country"] = values["country"] or ledger.country
    values["edi_buyer_id"] = edi_id_clean(item.edi_buyer_id, country=values["country"], field="edi_buyer_id")
    values["edi_seller_id"] = edi_id_clean(item.edi_seller_id, country=ledger.country, field="edi_seller_id")
    if item.billing_address:
        values["billing_address"] = address_clean(item.billing_address, default_country=values["country"],
                                                  field_prefix="billing_address.", what=f"{what}billing ")  # fmt: skip
    return values


def _national_id_apply(ledger: Ledger, item: CustomerInput, existing: Customer | None, values: dict) -> bool:
    """Check the national id and decide or check the legal entity into `values`; True when inferred.

    A customer whose number and entity stay as they are is not checked again: a change of address
    must not fail on a number registered before the checks existed."""
    unchanged = (
        existing is not None
        and item.national_id == existing.national_id
        and item.legal_entity in ("", existing.legal_entity)
    )
    if unchanged and not item.national_id_checked:
        values["legal_entity"] = existing.legal_entity
        return False
    if item.national_id and not item.national_id_checked:
        try:
            checked = national_id_check(item.national_id, country=item.national_id_country or ledger.country,
                                        legal_entity=item.legal_entity or None)  # fmt: skip
        except InvalidNationalId as exc:
            raise ValidationFailed(f"customer {item.customer_no}: national_id {exc}", code="invalid_national_id",
                                   field="national_id") from exc  # fmt: skip
        values["national_id"], values["legal_entity"] = checked.number, checked.legal_entity
        return checked.inferred
    # No number to decide by: as given, else as it was (a cleared number does not make a business private).
    values["legal_entity"] = item.legal_entity or (existing.legal_entity if existing else LegalEntity.PRIVATE)
    return item.legal_entity_inferred


def customers_upsert(
    *,
    ledger: Ledger,
    customers: Sequence[CustomerInput],
    actor: User | str | None,
    booking_date: date | None = None,
    source: str = "",
) -> dict[str, Customer]:
    """Create or update customers in bulk; new customers, new legal addresses and consent changes are
    recorded as customer events. Returns the customers by customer_no."""
    booking_date = booking_date or ledger.today()
    values_by_no = {item.customer_no: _customer_values(ledger, item) for item in customers}
    if len(values_by_no) != len(customers):
        raise ValidationFailed(
            "a customer_no appears more than once", code="duplicate_customer_no", field="customer_no"
        )
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    events = []  # COPY lines, in CUSTOMER_EVENT_COPY_COLUMNS order
    # The fields every event of this call shares, formatted once.
    event_head = f"{ledger.id}\t"
    event_date = f"\t{_copy_field(booking_date)}\t"
    event_tail = f"\t{_copy_field(created_by_id)}\t{_copy_field(actor_label)}\t{_copy_field(now)}\n"
    source_text = _copy_field(source)

    def event(customer, kind, old=None, new=None, reason=""):
        events.append(
            f"{event_head}{customer.id}\t{_copy_field(kind)}{event_date}{_copy_json(old or {})}\t"
            f"{_copy_json(new or {})}\t{_copy_field(reason) if reason else source_text}{event_tail}"
        )

    with transaction.atomic():
        existing = {
            c.customer_no: c
            # In customer_no order: the order the rows are locked in, and the events are made in.
            for c in Customer.objects.select_for_update()
            .filter(ledger=ledger, customer_no__in=customer_nos_in(values_by_no))
            .order_by("customer_no")
        }
        # Whose entity the national id decided: said in the customer's event.
        inferred_nos = {
            item.customer_no
            for item in customers
            if _national_id_apply(
                ledger, item, existing.get(item.customer_no), values_by_no[item.customer_no]
            )
        }
        new_numbers = [no for no in values_by_no if no not in existing]
        new_ids = _next_ids("ledger_customer", len(new_numbers))
        _derived_apply(ledger, customers, values_by_no, existing, dict(zip(new_numbers, new_ids, strict=True)))
        # COPY, not bulk_create: a CUSIN file brings up to 25,000 new customers at a time. The rows are
        # built from the values, and the instances returned positionally (keywords cost more).
        shared = {
            "status": CustomerStatus.ACTIVE,
            "last_reference_serial": 0,
            "created_at": now,
            "updated_at": now,
        }
        new_rows = [
            {"id": customer_id, "ledger_id": ledger.id, "customer_no": no, **values_by_no[no], **shared}
            for no, customer_id in zip(new_numbers, new_ids, strict=True)
        ]
        shared_text = "".join(f"\t{_copy_field(shared[column])}" for column in CUSTOMER_COPY_COLUMNS[-4:])
        _copy_lines(
            "ledger_customer",
            CUSTOMER_COPY_COLUMNS,
            (
                f"{row['id']}\t{ledger.id}\t{_copy_field(row['customer_no'])}\t"
                + "\t".join([_copy_field(row[name]) for name in (*CUSTOMER_FIELDS, *DERIVED_FIELDS)])
                + f"{shared_text}\n"
                for row in new_rows
            ),
        )
        new_customers = [
            Customer(
                *[row[f.attname] if f.attname in row else f.get_default() for f in _CUSTOMER_CONCRETE_FIELDS]
            )
            for row in new_rows
        ]
        created = f"\t{CustomerEventKind.CREATED.value}{event_date}{{}}\t{{}}\t{source_text}{event_tail}"
        for customer in new_customers:
            customer.ledger = ledger
            if customer.customer_no in inferred_nos:
                event(customer, CustomerEventKind.CREATED, new=_inferred(customer.legal_entity))
            else:
                events.append(
                    f"{event_head}{customer.id}{created}"
                )  # event(customer, CREATED), formatted once

        changed = []
        # The guardians' numbers for the events, in one query (those of this call are written by now).
        regarded = {c.guardian_id for c in existing.values()} | {v["guardian_id"] for v in values_by_no.values()}
        guardian_nos = dict(Customer.objects.filter(pk__in=regarded - {None}).values_list("id", "customer_no"))
        for no, customer in existing.items():
            values = values_by_no[no]
            if all(getattr(customer, k) == v for k, v in values.items()):
                continue
            old_address = {k: getattr(customer, k) for k in LEGAL_ADDRESS_FIELDS}
            new_address = {k: values[k] for k in LEGAL_ADDRESS_FIELDS}
            if old_address != new_address:
                event(customer, CustomerEventKind.LEGAL_ADDRESS_CHANGED, old_address, new_address)
            if customer.guardian_id != values["guardian_id"]:
                event(customer, CustomerEventKind.GUARDIAN_CHANGED, {"guardian": guardian_nos.get(customer.guardian_id)},
                      {"guardian": guardian_nos.get(values["guardian_id"])})  # fmt: skip
            if customer.legal_entity != values["legal_entity"]:
                event(customer, CustomerEventKind.LEGAL_ENTITY_CHANGED, {"legal_entity": customer.legal_entity},
                      _inferred(values["legal_entity"]) if no in inferred_nos else {"legal_entity": values["legal_entity"]})  # fmt: skip
            for k, v in values.items():
                setattr(customer, k, v)
            customer.updated_at = now
            changed.append(customer)
        Customer.objects.bulk_update(changed, [*CUSTOMER_FIELDS, *DERIVED_FIELDS, "updated_at"])

        by_no = {**existing, **{c.customer_no: c for c in new_customers}}
        _consents_apply(ledger, by_no, customers, booking_date, source, event)
        _copy_lines("ledger_customerevent", CUSTOMER_EVENT_COPY_COLUMNS, events)
    return by_no


def _derived_apply(ledger, customers, values_by_no, existing, new_ids: dict[str, int]) -> None:
    """Each customer's birth date (a private person's, from the national id) and guardian (by number:
    a customer of the ledger or of this call) into its values; an unknown guardian is refused, naming it."""
    ids_by_no = {**{no: c.id for no, c in existing.items()}, **new_ids}
    wanted = {item.guardian_customer_no for item in customers if item.guardian_customer_no} - set(ids_by_no)
    if wanted:
        ids_by_no.update(
            Customer.objects.filter(ledger=ledger, customer_no__in=sorted(wanted)).values_list("customer_no", "id")
        )
    for item in customers:
        values, no, guardian = values_by_no[item.customer_no], item.customer_no, item.guardian_customer_no
        private = values["legal_entity"] == LegalEntity.PRIVATE and values["national_id"]
        values["birth_date"] = (
            birth_date(values["national_id"], country=values["national_id_country"] or ledger.country)
            if private
            else None
        )
        if guardian is None:
            values["guardian_id"] = existing[no].guardian_id if no in existing else None
        elif guardian == "":
            values["guardian_id"] = None
        elif guardian == no:
            raise ValidationFailed(f"customer {no}: a customer cannot be their own guardian",
                                   code="guardian_is_customer", field="guardian_customer_no")  # fmt: skip
        elif guardian not in ids_by_no:
            raise ValidationFailed(
                f"customer {no}: guardian {guardian!r} is not a customer of ledger {ledger.company_no}",
                code="unknown_guardian", field="guardian_customer_no",
            )  # fmt: skip
        else:
            values["guardian_id"] = ids_by_no[guardian]


def _inferred(legal_entity: str) -> dict:
    return {"legal_entity": legal_entity, "inferred_from": "national_id"}


CONSENT_COPY_COLUMNS = [
    "ledger_id", "customer_id", "kind", "active", "changed_on", "source", "notify_payer", "bank_ref",
]  # fmt: skip


def _consents_apply(ledger, by_no, customers, booking_date, source, event) -> None:
    wanted = {
        (by_no[item.customer_no].id, kind): active
        for item in customers
        for kind, active in item.consents.items()
    }
    if not wanted:
        return
    customer_ids = RawSQL("SELECT unnest(%s::bigint[])", [_int_array({cid for cid, _ in wanted})])
    current = {
        (c.customer_id, c.kind): c for c in CustomerConsent.objects.filter(customer_id__in=customer_ids)
    }
    customers_by_id = {c.id: c for c in by_no.values()}
    to_create, to_update = [], []  # new ones as COPY lines (CONSENT_COPY_COLUMNS)
    # What every new consent shares: active from the booking date, the source, the model's defaults.
    new_tail = f"\tt\t{booking_date}\t{_copy_field(source)}\t" + "\t".join(
        _copy_field(CustomerConsent._meta.get_field(name).get_default()) for name in CONSENT_COPY_COLUMNS[-2:]
    )
    for (customer_id, kind), active in wanted.items():
        consent = current.get((customer_id, kind))
        if consent is None and not active:
            continue
        if consent is not None and consent.active == active:
            continue
        if consent is None:
            to_create.append(f"{ledger.id}\t{customer_id}\t{_copy_field(kind)}{new_tail}\n")
        else:
            consent.active, consent.changed_on, consent.source = active, booking_date, source
            to_update.append(consent)
        event(
            customers_by_id[customer_id],
            CustomerEventKind.CONSENT_ACTIVATED if active else CustomerEventKind.CONSENT_CANCELLED,
            new={"consent": kind},
        )
    if to_create:
        _copy_lines("ledger_customerconsent", CONSENT_COPY_COLUMNS, to_create)
    CustomerConsent.objects.bulk_update(to_update, ["active", "changed_on", "source"])


def customer_upsert(*, ledger: Ledger, actor: User | str | None = None, **fields) -> Customer:
    """One customer through the bulk path (see CustomerInput for the fields)."""
    item = CustomerInput(**fields)
    return customers_upsert(ledger=ledger, customers=[item], actor=actor)[item.customer_no]
