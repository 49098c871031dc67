"""Every write to the ledger core. Each service is one database transaction.

Invoice registration goes through one batch path (`invoices_register`) used by the single-invoice
service, CUSIN import and the API alike; it writes with COPY so that large files book fast.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import references
from .addresses import address_clean
from .dbstats import analyze_if_never_analyzed
from .edi_ids import edi_id_clean, org_no_clean
from .errors import InvalidTransition, LedgerError, NotFound, ValidationFailed
from .models import (
    COUNTRY_DEFAULTS,
    RECEIVABLE_ROLE_BY_COMPONENT,
    Account,
    AccountRole,
    Cause,
    Client,
    Component,
    ConsentKind,
    Country,
    Customer,
    CustomerConsent,
    CustomerEventKind,
    CustomerStatus,
    Invoice,
    InvoiceEvent,
    InvoiceEventKind,
    InvoiceStatus,
    JournalTransaction,
    Ledger,
    LegalEntity,
    Posting,
    TransactionKind,
    User,
)
from .money import ZERO, to_money
from .national_ids import InvalidNationalId, national_id_check
from .selectors import invoice_balance

CHARTS_DIR = Path(__file__).resolve().parent / "charts"
SYSTEM_ACTOR = "system"


def _actor_fields(actor: User | str | None) -> tuple[int | None, str]:
    """(created_by_id, actor label) for a user, a system label such as 'cusin', or nobody."""
    if actor is None:
        return None, SYSTEM_ACTOR
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


# --- Clients, ledgers and the chart of accounts -------------------------------------------------


def base_chart(country: str) -> list[dict]:
    path = CHARTS_DIR / f"{country}.json"
    return json.loads(path.read_text(encoding="utf-8"))["accounts"]


def ledger_fields_check(*, company_no: str, ledger_no: str, country: str) -> None:
    """The onboarding's own checks of a new ledger's numbers and country (the admin form's too)."""
    if country not in Country.values:
        raise ValidationFailed(
            f"unknown country {country!r}; use one of {', '.join(Country.values)}", field="country"
        )
    if not company_no.isdigit():
        raise ValidationFailed(f"company_no must be digits, got {company_no!r}", field="company_no")
    if not ledger_no.isdigit() or ledger_no.startswith("0") or len(ledger_no) > 9:
        raise ValidationFailed(
            f"ledger_no must be 1-9 digits without a leading zero, got {ledger_no!r}", field="ledger_no"
        )


def ledger_create(
    *,
    company_no: str,
    ledger_no: str,
    country: str,
    name: str,
    client_name: str | None = None,
    client_funds_account: str = "",
    currency: str | None = None,
    client: Client | None = None,
    client_org_no: str = "",
    client_vat_registered: bool | None = None,
) -> tuple[Ledger, bool]:
    """Onboard a ledger with its chart of accounts. Idempotent: an existing identical ledger is returned.
    The only way a ledger comes into being (the admin's "add ledger" calls it too): a ledger without its
    chart could book nothing. `client` is the owner, else the client named `client_name` (made if new)."""
    ledger_fields_check(company_no=company_no, ledger_no=ledger_no, country=country)
    client_org_no = org_no_clean(client_org_no, country=country, field="org_no")
    default_currency, time_zone, scheme = COUNTRY_DEFAULTS[Country(country)]
    currency = (currency or default_currency).upper()

    with transaction.atomic():
        existing = Ledger.objects.select_for_update().filter(company_no=company_no).first()
        if existing is not None:
            if existing.ledger_no != ledger_no or existing.country != country:
                raise ValidationFailed(
                    f"ledger {company_no} exists with ledger_no {existing.ledger_no} and country {existing.country}",
                    code="ledger_exists_differently",
                    field="company_no",
                )
            if client_funds_account and existing.client_funds_account != client_funds_account:
                existing.client_funds_account = client_funds_account
                existing.save(update_fields=["client_funds_account"])
            _client_registration_set(existing.client, org_no=client_org_no, vat_registered=client_vat_registered)
            return existing, False
        if Ledger.objects.filter(ledger_no=ledger_no).exists():
            raise ValidationFailed(
                f"ledger_no {ledger_no} is used by another ledger", code="ledger_no_taken", field="ledger_no"
            )
        if client is None:
            client, _ = Client.objects.get_or_create(name=client_name or name)
        ledger = Ledger.objects.create(
            client=client,
            company_no=company_no,
            ledger_no=ledger_no,
            name=name,
            country=country,
            currency=currency,
            time_zone=time_zone,
            reference_scheme=scheme.value,
            client_funds_account=client_funds_account,
        )
        Account.objects.bulk_create(
            Account(ledger=ledger, number=a["number"], name=a["name"], role=a["role"])
            for a in base_chart(country)
        )
        _client_registration_set(client, org_no=client_org_no, vat_registered=client_vat_registered)
    return ledger, True


def _client_registration_set(client: Client, *, org_no: str, vat_registered: bool | None) -> None:
    """The client's organisation number and VAT registration, where given (its e-invoices carry both)."""
    changed = []
    if org_no and client.org_no != org_no:
        client.org_no, changed = org_no, [*changed, "org_no"]
    if vat_registered is not None and client.vat_registered != vat_registered:
        client.vat_registered, changed = vat_registered, [*changed, "vat_registered"]
    if changed:
        client.save(update_fields=changed)


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


CUSTOMER_COPY_COLUMNS = [
    "id", "ledger_id", "customer_no", *CUSTOMER_FIELDS, "status", "last_reference_serial", "created_at",
    "updated_at",
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
    values["legal_entity"] = item.legal_entity or LegalEntity.PRIVATE
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
            if _national_id_apply(ledger, item, existing.get(item.customer_no), values_by_no[item.customer_no])
        }
        new_numbers = [no for no in values_by_no if no not in existing]
        new_ids = _next_ids("ledger_customer", len(new_numbers))
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
                + "\t".join([_copy_field(row[name]) for name in CUSTOMER_FIELDS])
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
                events.append(f"{event_head}{customer.id}{created}")  # event(customer, CREATED), formatted once

        changed = []
        for no, customer in existing.items():
            values = values_by_no[no]
            if all(getattr(customer, k) == v for k, v in values.items()):
                continue
            old_address = {k: getattr(customer, k) for k in LEGAL_ADDRESS_FIELDS}
            new_address = {k: values[k] for k in LEGAL_ADDRESS_FIELDS}
            if old_address != new_address:
                event(customer, CustomerEventKind.LEGAL_ADDRESS_CHANGED, old_address, new_address)
            if customer.legal_entity != values["legal_entity"]:
                event(customer, CustomerEventKind.LEGAL_ENTITY_CHANGED, {"legal_entity": customer.legal_entity},
                      _inferred(values["legal_entity"]) if no in inferred_nos else {"legal_entity": values["legal_entity"]})  # fmt: skip
            for k, v in values.items():
                setattr(customer, k, v)
            customer.updated_at = now
            changed.append(customer)
        Customer.objects.bulk_update(changed, [*CUSTOMER_FIELDS, "updated_at"])

        by_no = {**existing, **{c.customer_no: c for c in new_customers}}
        _consents_apply(ledger, by_no, customers, booking_date, source, event)
        _copy_lines("ledger_customerevent", CUSTOMER_EVENT_COPY_COLUMNS, events)
    return by_no


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


# --- The journal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One posting to book: an account role and a signed amount (debit positive)."""

    role: AccountRole
    amount: Decimal
    component: str = ""
    invoice: Invoice | None = None
    customer: Customer | None = None
    payment_id: int | None = None


class _ChartOfAccounts(dict):
    """A ledger's accounts by role. A role the chart lacks is a coded error naming the ledger, not a
    KeyError: a ledger only books once `ledger_create` gave it its chart."""

    def __init__(self, ledger: Ledger, accounts: dict[str, int]):
        super().__init__(accounts)
        self.ledger = ledger

    def __missing__(self, role):
        raise LedgerError(
            f"ledger {self.ledger.company_no} has no account for {AccountRole(role).label!r}: "
            "a ledger must be onboarded with create_ledger, which gives it its chart of accounts",
            code="ledger_chart_missing",
        )


def _accounts_by_role(ledger: Ledger) -> dict[str, int]:
    return _ChartOfAccounts(
        ledger, dict(Account.objects.filter(ledger=ledger).exclude(role="").values_list("role", "id"))
    )


def journal_book(
    *,
    ledger: Ledger,
    kind: TransactionKind,
    booking_date: date,
    lines: Sequence[Line],
    actor: User | str | None,
    invoice: Invoice | None = None,
    payment_id: int | None = None,
    cause: str = "",
    description: str = "",
    reverses: JournalTransaction | None = None,
) -> JournalTransaction:
    """Book one balanced transaction. The database checks the balance again at commit."""
    amounts = [to_money(line.amount) for line in lines]
    if len(lines) < 2:
        raise ValidationFailed("a transaction needs at least two postings", code="unbalanced_transaction")
    if any(a == 0 for a in amounts):
        raise ValidationFailed("a posting amount must not be zero", code="zero_posting")
    if sum(amounts, ZERO) != 0:
        raise ValidationFailed(
            f"postings sum to {sum(amounts, ZERO)}, not zero", code="unbalanced_transaction"
        )
    if cause and cause not in Cause.values:
        raise ValidationFailed(f"unknown cause {cause!r}", field="cause")
    accounts = _accounts_by_role(ledger)
    missing = {line.role for line in lines} - accounts.keys()
    if missing:
        raise ValidationFailed(
            f"ledger {ledger.company_no} has no account for {sorted(missing)}", code="account_missing"
        )
    created_by_id, actor_label = _actor_fields(actor)
    with transaction.atomic():
        txn = JournalTransaction.objects.create(
            ledger=ledger,
            booking_date=booking_date,
            kind=kind,
            cause=cause,
            description=description[:200],
            invoice=invoice,
            payment_id=payment_id,
            reverses=reverses,
            created_by_id=created_by_id,
            actor=actor_label,
        )
        Posting.objects.bulk_create(
            Posting(
                transaction=txn,
                ledger=ledger,
                account_id=accounts[line.role],
                invoice=line.invoice,
                customer=line.customer or (line.invoice.customer if line.invoice else None),
                payment_id=line.payment_id,
                component=line.component,
                amount=amount,
                currency=ledger.currency,
            )
            for line, amount in zip(lines, amounts, strict=True)
        )
    return txn


# --- Invoice registration ------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceInput:
    customer: Customer
    invoice_no: str
    invoice_date: date
    amount: Decimal
    due_date: date | None = None
    payment_ref: str | None = None
    currency: str | None = None
    external_id: str = ""
    reference_text: str = ""
    amount_excl_vat: Decimal | None = None
    vat_amount: Decimal | None = None
    with_distribution: bool = True
    distribution_type: str = ""
    print_blocks: list | dict | None = None


# From this many invoices on, a registration makes sure the planner has statistics (ledger/dbstats.py).
BULK_SIZE = 100

# The invoice columns registration writes with COPY (the rest keep their NULL defaults).
INVOICE_COPY_COLUMNS = [
    "id", "ledger_id", "customer_id", "invoice_no", "external_id", "payment_ref", "invoice_date", "due_date",
    "currency", "amount", "reference_text", "amount_excl_vat", "vat_amount", "with_distribution",
    "distribution_type", "print_blocks", "status", "created_at",
]  # fmt: skip


@dataclass
class _Prepared:
    source: InvoiceInput
    amount: Decimal
    due_date: date
    payment_ref: str | None


def _validate_invoice_inputs(ledger: Ledger, invoices: Sequence[InvoiceInput]) -> list[_Prepared]:
    prepared = []
    scheme = references.ReferenceScheme(ledger.reference_scheme)
    for item in invoices:
        if item.customer.ledger_id != ledger.id:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: customer {item.customer.customer_no} belongs to another ledger",
                code="customer_not_in_ledger",
                field="customer",
            )
        if not item.invoice_no or len(item.invoice_no) > 40:
            raise ValidationFailed(
                f"invoice_no must be 1-40 characters, got {item.invoice_no!r}", field="invoice_no"
            )
        try:
            amount = to_money(item.amount)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"invoice {item.invoice_no}: {exc}", field="amount") from exc
        if amount <= 0:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: amount must be positive, got {amount}",
                code="amount_not_positive",
                field="amount",
            )
        currency = (item.currency or ledger.currency).upper()
        if currency != ledger.currency:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: currency {currency} is not the ledger's {ledger.currency}",
                code="currency_mismatch",
                field="currency",
            )
        due_date = item.due_date or item.invoice_date + timedelta(days=ledger.payment_terms_days)
        if due_date < item.invoice_date:
            raise ValidationFailed(
                f"invoice {item.invoice_no}: due date {due_date} is before invoice date {item.invoice_date}",
                code="due_before_invoice_date",
                field="due_date",
            )
        payment_ref = None
        if item.payment_ref:
            try:
                payment_ref = references.validate(item.payment_ref, scheme=scheme, ledger_id=ledger.ledger_no)
            except references.InvalidReference as exc:
                raise ValidationFailed(
                    f"invoice {item.invoice_no}: payment reference {item.payment_ref}: {exc}",
                    code="invalid_payment_ref",
                    field="payment_ref",
                ) from exc
        prepared.append(_Prepared(source=item, amount=amount, due_date=due_date, payment_ref=payment_ref))

    for invoice_no, count in Counter(p.source.invoice_no for p in prepared).items():
        if count > 1:
            raise ValidationFailed(
                f"invoice_no {invoice_no} appears {count} times",
                code="duplicate_invoice_no",
                field="invoice_no",
            )
    for ref, count in Counter(p.payment_ref for p in prepared if p.payment_ref).items():
        if count > 1:
            raise ValidationFailed(
                f"payment reference {ref} appears {count} times",
                code="duplicate_payment_ref",
                field="payment_ref",
            )
    return prepared


def _existing(ledger: Ledger, column: str, values: Iterable[str]) -> set[str]:
    """The values of `column` (invoice_no or payment_ref) already in the ledger: one plain query."""
    values = list(values)
    if not values:
        return set()
    assert column in ("invoice_no", "payment_ref")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM ledger_invoice WHERE ledger_id = %s AND {column} = ANY(%s::text[])",
            [ledger.id, _text_array(values)],  # a literal: psycopg's list adaptation costs more
        )
        return {row[0] for row in cursor.fetchall()}


def _assign_payment_refs(ledger: Ledger, prepared: list[_Prepared]) -> None:
    """Give every invoice without a reference a new one, never colliding with a reference in use."""
    scheme = references.ReferenceScheme(ledger.reference_scheme)
    taken = {p.payment_ref for p in prepared if p.payment_ref}
    pending = [p for p in prepared if not p.payment_ref]
    while pending:
        generated = []
        if scheme in (references.ReferenceScheme.KID_MOD10, references.ReferenceScheme.KID_MOD11):
            serials = _next_customer_serials(Counter(p.source.customer.id for p in pending))
            for p in pending:
                serial = serials[p.source.customer.id].pop(0)
                try:
                    ref = references.generate(
                        scheme=scheme,
                        ledger_id=ledger.ledger_no,
                        customer_no=p.source.customer.customer_no,
                        serial=serial,
                    )
                except references.NoCheckDigit:
                    ref = None  # this serial has no mod-11 check digit: take the next one
                except references.InvalidReference as exc:
                    raise ValidationFailed(
                        f"invoice {p.source.invoice_no}: cannot make a KID for customer "
                        f"{p.source.customer.customer_no}: {exc}",
                        code="payment_ref_unavailable",
                        field="payment_ref",
                    ) from exc
                generated.append((p, ref))
        else:
            first = _next_ledger_serials(ledger, len(pending))
            for offset, p in enumerate(pending):
                try:
                    ref = references.generate(
                        scheme=scheme, ledger_id=ledger.ledger_no, customer_no="", serial=first + offset
                    )
                except references.InvalidReference as exc:
                    raise ValidationFailed(
                        f"ledger {ledger.company_no} has run out of OCR references: {exc}",
                        code="payment_ref_unavailable",
                        field="payment_ref",
                    ) from exc
                generated.append((p, ref))
        in_use = _existing(ledger, "payment_ref", [ref for _, ref in generated if ref]) | taken
        pending = []
        for p, ref in generated:
            if ref is None or ref in in_use:
                pending.append(p)
            else:
                p.payment_ref = ref
                taken.add(ref)


def _int_array(values: Iterable[int]) -> str:
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def _text_array(values: Iterable[str]) -> str:
    """A text[] literal: in it every value is quoted, with its backslashes and quotes escaped."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def customer_nos_in(numbers: Iterable[str]) -> RawSQL:
    """For `customer_no__in=`: the numbers as one text[] parameter. Building a 500-value IN list
    (the ORM, psycopg) costs several times more than the query."""
    return RawSQL("SELECT unnest(%s::text[])", [_text_array(numbers)])


def _next_customer_serials(counts: Counter) -> dict[int, list[int]]:
    """Reserve consecutive KID serials per customer with one UPDATE."""
    ids = list(counts)
    increments = [counts[i] for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE ledger_customer AS c
               SET last_reference_serial = c.last_reference_serial + v.n
              FROM unnest(%s::bigint[], %s::int[]) AS v(id, n)
             WHERE c.id = v.id
         RETURNING c.id, c.last_reference_serial
            """,
            # Array literals as text: psycopg's list adaptation costs more than the UPDATE itself.
            [_int_array(ids), _int_array(increments)],
        )
        rows = cursor.fetchall()
    return {cid: list(range(last - counts[cid] + 1, last + 1)) for cid, last in rows}


def _next_ledger_serials(ledger: Ledger, count: int) -> int:
    """Reserve `count` consecutive OCR serials for the ledger; returns the first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledger SET last_reference_serial = last_reference_serial + %s WHERE id = %s "
            "RETURNING last_reference_serial",
            [count, ledger.id],
        )
        (last,) = cursor.fetchone()
    return last - count + 1


def _next_ids(table: str, count: int) -> list[int]:
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        # One text value instead of `count` rows: fetching 100,000 rows costs more than splitting them.
        cursor.execute(
            f"SELECT string_agg(nextval(pg_get_serial_sequence('{table}', 'id'))::text, ',')"
            " FROM generate_series(1, %s)",
            [count],
        )
        (ids,) = cursor.fetchone()
    return [int(i) for i in ids.split(",")]


def _copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


# The bulk paths below (customers and invoices, some 300,000 rows for a CUSIN file) write COPY's text
# format themselves: psycopg's write_row adapts every value by its type, which cost more than the rest
# of building the rows. A row is a line of tab-separated fields; NULL is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value) -> str:
    """One value as a field of COPY's text format (as psycopg's text dumpers would write it)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return _copy_json(value)
    return str(value)


# json.dumps' output, without its check for reference cycles (none in data read from a file or request).
_json_text = json.JSONEncoder(check_circular=False).encode


def _copy_json(value) -> str:
    if value == {}:  # what most customer events carry as their old or new value
        return "{}"
    # The encoder escapes tabs and newlines inside strings, so only its backslashes need doubling.
    return _json_text(value).replace("\\", "\\\\")


def _copy_lines(table: str, columns: Sequence[str], lines: Iterable[str], *, cursor=None) -> None:
    """COPY rows given as lines of COPY's text format (see _copy_field), sent 1,000 at a time.

    `cursor`: a psycopg cursor to use instead of Django's (the payments import's writer thread)."""
    if cursor is None:
        with connection.cursor() as cursor:
            return _copy_lines(table, columns, lines, cursor=cursor)
    lines = iter(lines)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := "".join(islice(lines, 1000)):
            copy.write(chunk)


@dataclass(frozen=True, slots=True)
class RegisteredInvoice:
    """What a bulk registration wrote for one invoice (plain values, no model instance)."""

    id: int
    transaction_id: int
    invoice_no: str
    payment_ref: str
    amount: Decimal
    due_date: date
    reference_text: str
    created_at: datetime


INVOICE_TRANSACTION_COPY_COLUMNS = [
    "id", "ledger_id", "booking_date", "kind", "cause", "description", "invoice_id", "created_by_id", "actor",
    "created_at",
]  # fmt: skip
INVOICE_POSTING_COPY_COLUMNS = [
    "transaction_id", "ledger_id", "invoice_id", "customer_id", "account_id", "component", "amount", "currency",
]  # fmt: skip
INVOICE_REGISTERED_EVENT_COPY_COLUMNS = [
    "ledger_id", "invoice_id", "kind", "from_status", "to_status", "booking_date", "reason", "transaction_id",
    "created_by_id", "actor", "created_at",
]  # fmt: skip


def invoices_register_rows(
    *,
    ledger: Ledger,
    invoices: Sequence[InvoiceInput],
    actor: User | str | None,
    booking_date: date | None = None,
    existence_checked: bool = False,
) -> list[RegisteredInvoice]:
    """`invoices_register` for bulk callers: the same rows written, plain values returned.

    existence_checked=True: the caller has already looked up, inside its own database transaction,
    that none of the invoice numbers and given payment references is in the ledger (a CUSIN batch
    does, to report each one). The lookup is then not repeated; the unique keys still refuse a
    duplicate (a concurrent registration), which raises ValidationFailed("registration_conflict").
    """
    if not invoices:
        return []
    booking_date = booking_date or ledger.today()
    prepared = _validate_invoice_inputs(ledger, invoices)
    if len(prepared) >= BULK_SIZE:
        analyze_if_never_analyzed()
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    ledger_id, currency = ledger.id, ledger.currency
    try:
        with transaction.atomic():
            if not existence_checked:
                duplicates = _existing(ledger, "invoice_no", [p.source.invoice_no for p in prepared])
                if duplicates:
                    raise ValidationFailed(
                        f"invoice_no already registered: {', '.join(sorted(duplicates))}",
                        code="duplicate_invoice_no",
                        field="invoice_no",
                    )
                used_refs = _existing(
                    ledger, "payment_ref", [p.payment_ref for p in prepared if p.payment_ref]
                )
                if used_refs:
                    raise ValidationFailed(
                        f"payment reference already in use: {', '.join(sorted(used_refs))}",
                        code="duplicate_payment_ref",
                        field="payment_ref",
                    )
            _assign_payment_refs(ledger, prepared)

            accounts = _accounts_by_role(ledger)
            invoice_ids = _next_ids("ledger_invoice", len(prepared))
            transaction_ids = _next_ids("ledger_journaltransaction", len(prepared))
            default_text = ledger.default_reference_text
            result = [
                RegisteredInvoice(
                    id=invoice_id,
                    transaction_id=transaction_id,
                    invoice_no=p.source.invoice_no,
                    payment_ref=p.payment_ref,
                    amount=p.amount,
                    due_date=p.due_date,
                    reference_text=p.source.reference_text or default_text,
                    created_at=now,
                )
                for p, invoice_id, transaction_id in zip(prepared, invoice_ids, transaction_ids, strict=True)
            ]
            # The rows are built as COPY's text lines while COPY sends them, straight from the inputs (no
            # model instances); what every row of a table shares is formatted once.
            now_text = _copy_field(now)
            date_text = _copy_field(booking_date)
            who = f"{_copy_field(created_by_id)}\t{_copy_field(actor_label)}\t{now_text}\n"
            currency_text = _copy_field(currency)
            open_text = InvoiceStatus.OPEN.value
            _copy_lines(
                "ledger_invoice",
                INVOICE_COPY_COLUMNS,
                (
                    f"{r.id}\t{ledger_id}\t{p.source.customer.id}\t{_copy_field(r.invoice_no)}\t"
                    f"{_copy_field(p.source.external_id)}\t{_copy_field(r.payment_ref)}\t"
                    f"{p.source.invoice_date}\t{r.due_date}\t{currency_text}\t{r.amount}\t"
                    f"{_copy_field(r.reference_text)}\t"
                    f"{_copy_field(p.source.amount_excl_vat)}\t{_copy_field(p.source.vat_amount)}\t"
                    f"{_copy_field(p.source.with_distribution)}\t{_copy_field(p.source.distribution_type)}\t"
                    f"{_copy_field(p.source.print_blocks)}\t{open_text}\t{now_text}\n"
                    for p, r in zip(prepared, result, strict=True)
                ),
            )
            invoice_kind = TransactionKind.INVOICE.value
            _copy_lines(
                "ledger_journaltransaction",
                INVOICE_TRANSACTION_COPY_COLUMNS,
                (
                    f"{r.transaction_id}\t{ledger_id}\t{date_text}\t{invoice_kind}\t\t"
                    f"{_copy_field(f'Invoice {r.invoice_no}')}\t{r.id}\t{who}"
                    for r in result
                ),
            )
            capital = f"\t{accounts[AccountRole.RECEIVABLE_CAPITAL]}\t{Component.CAPITAL.value}\t"
            clearing = f"\t{accounts[AccountRole.INVOICE_CLEARING]}\t\t"
            currency_end = f"\t{currency_text}\n"

            def posting_lines():
                for p, r in zip(prepared, result, strict=True):
                    common = f"{r.transaction_id}\t{ledger_id}\t{r.id}\t{p.source.customer.id}"
                    yield f"{common}{capital}{r.amount}{currency_end}"
                    yield f"{common}{clearing}{-r.amount}{currency_end}"

            _copy_lines("ledger_posting", INVOICE_POSTING_COPY_COLUMNS, posting_lines())
            registered_kind = InvoiceEventKind.REGISTERED.value
            _copy_lines(
                "ledger_invoiceevent",
                INVOICE_REGISTERED_EVENT_COPY_COLUMNS,
                (
                    f"{ledger_id}\t{r.id}\t{registered_kind}\t\t{open_text}\t{date_text}\t\t"
                    f"{r.transaction_id}\t{who}"
                    for r in result
                ),
            )
    except IntegrityError as exc:
        # A concurrent registration took the same invoice_no or reference between our check and COPY.
        raise ValidationFailed(
            f"invoice registration conflicts with existing data: {exc}", code="registration_conflict"
        ) from exc
    return result


def invoices_register(
    *,
    ledger: Ledger,
    invoices: Sequence[InvoiceInput],
    actor: User | str | None,
    booking_date: date | None = None,
) -> list[Invoice]:
    """Register invoices as open claims, each with its payment reference and its journal transaction.

    All or nothing: a bad invoice raises a ValidationFailed naming it, and nothing is written.
    """
    registered = invoices_register_rows(
        ledger=ledger, invoices=invoices, actor=actor, booking_date=booking_date
    )
    return [
        Invoice(
            id=r.id,
            ledger=ledger,
            customer=item.customer,
            invoice_no=r.invoice_no,
            external_id=item.external_id,
            payment_ref=r.payment_ref,
            invoice_date=item.invoice_date,
            due_date=r.due_date,
            currency=ledger.currency,
            amount=r.amount,
            reference_text=r.reference_text,
            amount_excl_vat=item.amount_excl_vat,
            vat_amount=item.vat_amount,
            with_distribution=item.with_distribution,
            distribution_type=item.distribution_type,
            print_blocks=item.print_blocks,
            status=InvoiceStatus.OPEN,
            created_at=r.created_at,
        )
        for item, r in zip(invoices, registered, strict=True)
    ]


def invoice_register(
    *,
    ledger: Ledger,
    customer: Customer,
    invoice_no: str,
    invoice_date: date,
    amount: Decimal,
    due_date: date | None = None,
    payment_ref: str | None = None,
    currency: str | None = None,
    external_id: str = "",
    reference_text: str = "",
    actor: User | str | None = None,
    booking_date: date | None = None,
) -> Invoice:
    item = InvoiceInput(
        customer=customer,
        invoice_no=invoice_no,
        invoice_date=invoice_date,
        amount=amount,
        due_date=due_date,
        payment_ref=payment_ref,
        currency=currency,
        external_id=external_id,
        reference_text=reference_text,
    )
    return invoices_register(ledger=ledger, invoices=[item], actor=actor, booking_date=booking_date)[0]


# --- Invoice state changes -----------------------------------------------------------------------

# The status changes a service may make; anything else is an InvalidTransition.
ALLOWED_TRANSITIONS = {
    (InvoiceStatus.OPEN, InvoiceStatus.RESPITE),
    (InvoiceStatus.RESPITE, InvoiceStatus.RESPITE),
    (InvoiceStatus.RESPITE, InvoiceStatus.OPEN),
    (InvoiceStatus.OPEN, InvoiceStatus.DISPUTED),
    (InvoiceStatus.RESPITE, InvoiceStatus.DISPUTED),
    (InvoiceStatus.DISPUTED, InvoiceStatus.OPEN),
    (InvoiceStatus.OPEN, InvoiceStatus.CLOSED),
    (InvoiceStatus.RESPITE, InvoiceStatus.CLOSED),
    (InvoiceStatus.DISPUTED, InvoiceStatus.CLOSED),
}


def _lock_invoice(invoice: Invoice) -> Invoice:
    try:
        return Invoice.objects.select_for_update().select_related("ledger", "customer").get(pk=invoice.pk)
    except Invoice.DoesNotExist as exc:
        raise NotFound(f"invoice {invoice.invoice_no} not found") from exc


def _guard_not_closed(invoice: Invoice, action: str) -> None:
    if invoice.status == InvoiceStatus.CLOSED:
        raise InvalidTransition(
            f"invoice {invoice.invoice_no} is closed: cannot {action}", code="invoice_closed"
        )


def _invoice_transition(
    invoice: Invoice,
    *,
    to_status: InvoiceStatus,
    kind: InvoiceEventKind,
    booking_date: date,
    actor: User | str | None,
    reason: str = "",
    respite_until: date | None = None,
    txn: JournalTransaction | None = None,
) -> InvoiceEvent:
    from_status = InvoiceStatus(invoice.status)
    if from_status != to_status and (from_status, to_status) not in ALLOWED_TRANSITIONS:
        raise InvalidTransition(
            f"invoice {invoice.invoice_no}: cannot go from {from_status.value} to {to_status.value}"
        )
    invoice.status = to_status
    invoice.respite_until = respite_until if to_status == InvoiceStatus.RESPITE else None
    invoice.closed_on = booking_date if to_status == InvoiceStatus.CLOSED else None
    invoice.save(update_fields=["status", "respite_until", "closed_on"])
    return _invoice_event(
        invoice,
        kind=kind,
        from_status=from_status,
        booking_date=booking_date,
        actor=actor,
        reason=reason,
        txn=txn,
    )


def _invoice_event(invoice, *, kind, from_status, booking_date, actor, reason="", txn=None) -> InvoiceEvent:
    created_by_id, actor_label = _actor_fields(actor)
    return InvoiceEvent.objects.create(
        ledger_id=invoice.ledger_id,
        invoice=invoice,
        kind=kind,
        from_status=from_status,
        to_status=invoice.status,
        booking_date=booking_date,
        reason=reason[:500],
        transaction=txn,
        created_by_id=created_by_id,
        actor=actor_label,
    )


def invoice_close_if_settled(
    *, invoice: Invoice, booking_date: date, actor: User | str | None, reason: str, txn=None
) -> bool:
    """Close the invoice when nothing is open on it any more. Call inside the booking's transaction."""
    if invoice.status == InvoiceStatus.CLOSED or invoice_balance(invoice).open_amount != 0:
        return False
    _invoice_transition(
        invoice,
        to_status=InvoiceStatus.CLOSED,
        kind=InvoiceEventKind.CLOSED,
        booking_date=booking_date,
        actor=actor,
        reason=reason,
        txn=txn,
    )
    return True


def _positive_amount(value, field_name: str) -> Decimal:
    try:
        amount = to_money(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), field=field_name) from exc
    if amount <= 0:
        raise ValidationFailed(
            f"{field_name} must be positive, got {amount}", code="amount_not_positive", field=field_name
        )
    return amount


# Where the other leg goes when a receivable component is reduced without payment.
_REDUCTION_ROLE = {
    Component.FEE: AccountRole.FEE_INCOME,
    Component.INTEREST: AccountRole.INTEREST_INCOME,
}


def _reduction_lines(invoice: Invoice, parts: dict[str, Decimal], capital_role: AccountRole) -> list[Line]:
    lines = []
    for component, amount in parts.items():
        if amount == 0:
            continue
        lines.append(
            Line(
                role=RECEIVABLE_ROLE_BY_COMPONENT[component],
                amount=-amount,
                component=component,
                invoice=invoice,
            )
        )
        other = capital_role if component == Component.CAPITAL else _REDUCTION_ROLE[component]
        lines.append(Line(role=other, amount=amount, invoice=invoice))
    return lines


def invoice_credit(
    *,
    invoice: Invoice,
    actor: User | str | None,
    amount: Decimal | None = None,
    reason: str = "",
    cause: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Credit an invoice: part of its capital, or (amount=None) the whole claim with its fees and interest."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "credit it")
        booking_date = booking_date or invoice.ledger.today()
        balance = invoice_balance(invoice)
        if amount is None:
            parts = {
                Component.CAPITAL: balance.capital,
                Component.FEE: balance.fees,
                Component.INTEREST: balance.interest,
            }
        else:
            amount = _positive_amount(amount, "amount")
            if amount > balance.capital:
                raise ValidationFailed(
                    f"invoice {invoice.invoice_no}: credit {amount} exceeds the open capital {balance.capital}",
                    code="credit_exceeds_open",
                    field="amount",
                )
            parts = {Component.CAPITAL: amount}
        if sum(parts.values(), ZERO) <= 0:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: nothing open to credit", code="nothing_open"
            )
        txn = journal_book(
            ledger=invoice.ledger,
            kind=TransactionKind.CREDIT,
            booking_date=booking_date,
            actor=actor,
            invoice=invoice,
            cause=cause,
            description=reason or f"Credit of invoice {invoice.invoice_no}",
            lines=_reduction_lines(invoice, parts, AccountRole.CREDIT),
        )
        _invoice_event(
            invoice,
            kind=InvoiceEventKind.CREDITED,
            from_status=invoice.status,
            booking_date=booking_date,
            actor=actor,
            reason=reason or f"credited {sum(parts.values())}",
            txn=txn,
        )
        invoice_close_if_settled(
            invoice=invoice, booking_date=booking_date, actor=actor, reason="credited", txn=txn
        )
    return txn


def invoice_fees_credit(
    *,
    invoice: Invoice,
    amount: Decimal,
    actor: User | str | None,
    reason: str,
    cause: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Take fees off a claim (e.g. the collection fees of a claim recalled from collection): a CREDIT
    transaction against fee income, at most the fees open."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "credit its fees")
        amount = _positive_amount(amount, "amount")
        balance = invoice_balance(invoice)
        if amount > balance.fees:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: fee credit {amount} exceeds the open fees {balance.fees}",
                code="credit_exceeds_open",
                field="amount",
            )
        booking_date = booking_date or invoice.ledger.today()
        txn = journal_book(
            ledger=invoice.ledger,
            kind=TransactionKind.CREDIT,
            booking_date=booking_date,
            actor=actor,
            invoice=invoice,
            cause=cause,
            description=reason,
            lines=_reduction_lines(invoice, {Component.FEE: amount}, AccountRole.CREDIT),
        )
        _invoice_event(invoice, kind=InvoiceEventKind.CREDITED, from_status=invoice.status,
                       booking_date=booking_date, actor=actor, reason=f"fees {amount} credited: {reason}",
                       txn=txn)  # fmt: skip
        invoice_close_if_settled(
            invoice=invoice, booking_date=booking_date, actor=actor, reason="credited", txn=txn
        )
    return txn


# A write-off gives up the costs before the capital.
WRITE_OFF_ORDER = (Component.INTEREST, Component.FEE, Component.CAPITAL)


def invoice_write_off(
    *,
    invoice: Invoice,
    cause: str,
    actor: User | str | None,
    amount: Decimal | None = None,
    reason: str = "",
    booking_date: date | None = None,
) -> JournalTransaction:
    """Write off (part of) a claim as a loss: interest first, then fees, then capital."""
    if cause not in Cause.values:
        raise ValidationFailed(
            f"unknown write-off cause {cause!r}; use one of {', '.join(Cause.values)}",
            code="invalid_cause",
            field="cause",
        )
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "write it off")
        booking_date = booking_date or invoice.ledger.today()
        balance = invoice_balance(invoice)
        open_by_component = {
            Component.CAPITAL: balance.capital,
            Component.FEE: balance.fees,
            Component.INTEREST: balance.interest,
        }
        remaining = balance.open_amount if amount is None else _positive_amount(amount, "amount")
        if remaining > balance.open_amount:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: write-off {remaining} exceeds the open amount {balance.open_amount}",
                code="write_off_exceeds_open",
                field="amount",
            )
        if remaining <= 0:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no}: nothing open to write off", code="nothing_open"
            )
        parts = {}
        for component in WRITE_OFF_ORDER:
            take = min(remaining, max(open_by_component[component], ZERO))
            parts[component] = take
            remaining -= take
        txn = journal_book(
            ledger=invoice.ledger,
            kind=TransactionKind.WRITE_OFF,
            booking_date=booking_date,
            actor=actor,
            invoice=invoice,
            cause=cause,
            description=reason or f"Write-off of invoice {invoice.invoice_no}",
            lines=_reduction_lines(invoice, parts, AccountRole.LOSS_ON_RECEIVABLES),
        )
        _invoice_event(
            invoice,
            kind=InvoiceEventKind.WRITTEN_OFF,
            from_status=invoice.status,
            booking_date=booking_date,
            actor=actor,
            reason=f"{cause}: {reason}" if reason else cause,
            txn=txn,
        )
        invoice_close_if_settled(
            invoice=invoice, booking_date=booking_date, actor=actor, reason="written off", txn=txn
        )
    return txn


def invoice_costs_carry(
    *, invoice: Invoice, to_invoice: Invoice, actor: User | str | None, booking_date: date | None = None
) -> JournalTransaction:
    """Carry the fees and interest left on a paid invoice ("unpaid costs in arrear") to the same customer's
    next open invoice, and close the first: the customer pays them with the next one."""
    with transaction.atomic():
        invoice, to_invoice = _lock_invoice(invoice), _lock_invoice(to_invoice)
        _guard_not_closed(invoice, "carry its costs")
        _guard_not_closed(to_invoice, "take over costs")
        if (to_invoice.ledger_id, to_invoice.customer_id) != (invoice.ledger_id, invoice.customer_id) or (
            to_invoice.pk == invoice.pk
        ):
            raise ValidationFailed(
                f"costs of invoice {invoice.invoice_no} go only to another invoice of the same customer",
                code="costs_other_customer",
                field="to_invoice",
            )
        balance = invoice_balance(invoice)
        if balance.capital != 0 or balance.fees + balance.interest <= 0:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} has capital {balance.capital} and costs "
                f"{balance.fees + balance.interest} open: only costs left after the capital is paid are carried",
                code="no_costs_in_arrear",
            )
        booking_date = booking_date or invoice.ledger.today()
        lines = []
        for component, amount in ((Component.FEE, balance.fees), (Component.INTEREST, balance.interest)):
            if amount:
                role = RECEIVABLE_ROLE_BY_COMPONENT[component]
                lines += [
                    Line(role=role, amount=-amount, component=component, invoice=invoice),
                    Line(role=role, amount=amount, component=component, invoice=to_invoice),
                ]
        txn = journal_book(
            ledger=invoice.ledger,
            kind=TransactionKind.COST_TRANSFER,
            booking_date=booking_date,
            lines=lines,
            actor=actor,
            invoice=invoice,
            description=f"costs of {invoice.invoice_no} carried to {to_invoice.invoice_no}",
        )
        carried = balance.fees + balance.interest
        _invoice_event(to_invoice, kind=InvoiceEventKind.COSTS_CARRIED, from_status=to_invoice.status,
                       booking_date=booking_date, actor=actor, txn=txn,
                       reason=f"{carried} of fees and interest carried from invoice {invoice.invoice_no}")  # fmt: skip
        _invoice_event(invoice, kind=InvoiceEventKind.COSTS_CARRIED, from_status=invoice.status,
                       booking_date=booking_date, actor=actor, txn=txn,
                       reason=f"{carried} of fees and interest carried to invoice {to_invoice.invoice_no}")  # fmt: skip
        invoice_close_if_settled(
            invoice=invoice, booking_date=booking_date, actor=actor, txn=txn,
            reason=f"costs carried to invoice {to_invoice.invoice_no}",
        )  # fmt: skip
    return txn


def invoice_respite_set(
    *,
    invoice: Invoice,
    until: date,
    actor: User | str | None,
    reason: str = "",
    booking_date: date | None = None,
) -> Invoice:
    """Pause the claim timeline until a date (or move an existing respite)."""
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "set a respite")
        booking_date = booking_date or invoice.ledger.today()
        if invoice.status == InvoiceStatus.DISPUTED:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} is disputed: close the dispute first", code="invoice_disputed"
            )
        if until <= booking_date:
            raise ValidationFailed(
                f"respite date {until} must be after {booking_date}",
                code="respite_date_not_future",
                field="until",
            )
        latest = booking_date + timedelta(days=invoice.ledger.max_respite_days)
        if until > latest:
            raise ValidationFailed(
                f"a respite until {until} is longer than this ledger allows: at most "
                f"{invoice.ledger.max_respite_days} days, until {latest}",
                code="respite_too_long",
                field="until",
                params={"days": invoice.ledger.max_respite_days, "until": latest},
            )
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.RESPITE,
            kind=InvoiceEventKind.RESPITE_SET,
            booking_date=booking_date,
            actor=actor,
            respite_until=until,
            reason=reason or f"respite until {until.isoformat()}",
        )
    return invoice


def invoice_respite_clear(
    *, invoice: Invoice, actor: User | str | None, reason: str = "", booking_date: date | None = None
) -> Invoice:
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != InvoiceStatus.RESPITE:
            raise InvalidTransition(f"invoice {invoice.invoice_no} has no respite", code="no_respite")
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.OPEN,
            kind=InvoiceEventKind.RESPITE_CLEARED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice


def invoice_dispute_open(
    *, invoice: Invoice, actor: User | str | None, reason: str, booking_date: date | None = None
) -> Invoice:
    """Stop the claim timeline while the customer's complaint is handled."""
    if not reason:
        raise ValidationFailed("a dispute needs a reason", field="reason")
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        _guard_not_closed(invoice, "open a dispute")
        if invoice.status == InvoiceStatus.DISPUTED:
            raise InvalidTransition(
                f"invoice {invoice.invoice_no} is already disputed", code="already_disputed"
            )
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.DISPUTED,
            kind=InvoiceEventKind.DISPUTE_OPENED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice


def invoice_dispute_close(
    *, invoice: Invoice, actor: User | str | None, reason: str = "", booking_date: date | None = None
) -> Invoice:
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != InvoiceStatus.DISPUTED:
            raise InvalidTransition(f"invoice {invoice.invoice_no} is not disputed", code="not_disputed")
        _invoice_transition(
            invoice,
            to_status=InvoiceStatus.OPEN,
            kind=InvoiceEventKind.DISPUTE_CLOSED,
            booking_date=booking_date or invoice.ledger.today(),
            actor=actor,
            reason=reason,
        )
    return invoice


__all__ = [
    "InvoiceInput",
    "LedgerError",
    "Line",
    "base_chart",
    "customer_upsert",
    "invoice_close_if_settled",
    "invoice_credit",
    "invoice_dispute_close",
    "invoice_dispute_open",
    "invoice_register",
    "invoice_respite_clear",
    "invoice_respite_set",
    "invoice_write_off",
    "invoices_register",
    "invoices_register_rows",
    "journal_book",
    "ledger_create",
]
