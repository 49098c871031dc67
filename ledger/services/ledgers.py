"""Clients and ledgers: onboarding (`ledger_create`) with the chart of accounts of the country."""

import json

from django.db import transaction

from ledger.edi_ids import org_no_clean
from ledger.errors import ValidationFailed
from ledger.models import (
    COUNTRY_DEFAULTS,
    Account,
    Client,
    Country,
    Ledger,
)
from ledger.selectors import same_account
from ledger.services.common import CHARTS_DIR

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
    collection_funds_account: str = "",
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
            accounts = {"client_funds_account": client_funds_account,
                        "collection_funds_account": collection_funds_account}  # fmt: skip
            changed = [name for name, value in accounts.items() if value and getattr(existing, name) != value]
            for name in changed:
                setattr(existing, name, accounts[name])
            if changed:
                _accounts_check(existing)
                existing.save(update_fields=changed)
            _client_registration_set(
                existing.client, org_no=client_org_no, vat_registered=client_vat_registered
            )
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
            collection_funds_account=collection_funds_account,
        )
        _accounts_check(ledger)
        Account.objects.bulk_create(
            Account(ledger=ledger, number=a["number"], name=a["name"], role=a["role"])
            for a in base_chart(country)
        )
        _client_registration_set(client, org_no=client_org_no, vat_registered=client_vat_registered)
    return ledger, True


def _accounts_check(ledger: Ledger) -> None:
    """The collection client-funds account is a bank account of its own, not the client-funds account
    (a bank file's money is booked by the account it was paid into)."""
    if ledger.collection_funds_account and same_account(ledger.client_funds_account, ledger.collection_funds_account):
        raise ValidationFailed("the collection client-funds account must differ from the client-funds account",
                               code="same_account", field="collection_funds_account")  # fmt: skip


def _client_registration_set(client: Client, *, org_no: str, vat_registered: bool | None) -> None:
    """The client's organisation number and VAT registration, where given (its e-invoices carry both)."""
    changed = []
    if org_no and client.org_no != org_no:
        client.org_no, changed = org_no, [*changed, "org_no"]
    if vat_registered is not None and client.vat_registered != vat_registered:
        client.vat_registered, changed = vat_registered, [*changed, "vat_registered"]
    if changed:
        client.save(update_fields=changed)
