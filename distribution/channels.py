"""Which channel a document goes by, to which address, and why (seeds/000 section 6, seeds/002).

`channel_choose` is a pure function of the document, the customer and their consents: the distribution
run records its answer (channel, route, address, reason, error) on the document.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ledger.models import ConsentKind, CustomerConsent, LegalEntity

from .models import Channel, DocumentKind, PaperRoute

# The law sends these on paper to the registered (legal) address, whatever the customer's channel.
PAPER_BY_LAW = frozenset({DocumentKind.PAYMENT_DEMAND, DocumentKind.LEGAL_NOTICE})

# B2C e-invoice consent that counts for a ledger of each country.
EINVOICE_CONSENT_BY_COUNTRY = {
    "NO": ConsentKind.EINVOICE_B2C_NO,
    "SE": ConsentKind.EINVOICE_B2C_SE,
    "FI": ConsentKind.EINVOICE_B2C_FI,
}

# CUSIN DistributionType values (xsd/cusin-2.x.xsd DistributionTypeType).
POSTAL_SERVICE = "PostalService"
EMAIL = "Email"
EINVOICE_B2C = "EInvoiceB2C"
EINVOICE_B2B = "EInvoiceB2B"
KIVRA = "Kivra"
NO_DISTRIBUTION = "NoDistribution"


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    reason: str
    route: str = PaperRoute.NONE
    address: dict = field(default_factory=dict)
    # A rule that could not be followed (e.g. EInvoiceB2B without EDI ids): recorded, the fallback used.
    error: str = ""


def legal_address(customer) -> dict:
    return {
        "name": customer.name,
        "co": customer.co_address,
        "line1": customer.address_line1,
        "line2": customer.address_line2,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "country": customer.country,
    }


def billing_address(customer) -> dict:
    given = {k: v for k, v in (customer.billing_address or {}).items() if v}
    if not given.get("line1") and not given.get("city"):
        return legal_address(customer)
    return {"name": customer.name, **given}


def _has_postal_address(address: dict) -> bool:
    return bool(address.get("line1") and address.get("postal_code") and address.get("city"))


def _active_consents(consents: Iterable[CustomerConsent], booking_date: date) -> set[str]:
    # Verified distribution: a consent applies from the next document, i.e. to documents of a later
    # business day than the one it was set on (the invoice that carried it goes the old way).
    return {c.kind for c in consents if c.active and c.changed_on < booking_date}


def _paper(customer, *, reason: str, route: str = PaperRoute.LEGAL_ADDRESS, error: str = "") -> ChannelChoice:
    if customer.protected_identity and (customer.country or "").upper() == "SE":
        # Skatteverket forwards the letter: we address it by personal identity number only.
        return ChannelChoice(
            channel=Channel.PAPER,
            route=PaperRoute.PROTECTED_IDENTITY,
            address={"name": customer.name, "national_id": customer.national_id, "country": "SE"},
            reason=f"{reason}; protected identity (Sweden): sent through Skatteverket's postal route",
            error=error,
        )
    address = billing_address(customer) if route == PaperRoute.BILLING_ADDRESS else legal_address(customer)
    if not _has_postal_address(address):
        return ChannelChoice(
            channel=Channel.PAPER,
            route=route,
            address=address,
            reason=reason,
            error=(error + "; " if error else "") + "no postal address",
        )
    return ChannelChoice(channel=Channel.PAPER, route=route, address=address, reason=reason, error=error)


def channel_choose(
    *,
    kind: str,
    customer,
    ledger_country: str,
    booking_date: date,
    consents: Iterable[CustomerConsent] = (),
    distribution_type: str = "",
    paper_kinds: Iterable[str] = (),
    new_address: dict | None = None,
    efaktura_receiver: str = "",
) -> ChannelChoice:
    """The channel for one document, in this order:

    1. a re-send after returned mail: paper to the new address (or the registered one);
    2. SMS reminders: SMS to the customer's phone;
    3. DistributionType NoDistribution: archive only;
    4. kinds the law (payment demand, legal notice) or the client sends on paper: the legal address;
    5. an active B2C e-invoice consent (private customers; overrides DistributionType), or in Norway an
       eFaktura 2.0 receiver who said yes to all (`efaktura_receiver`, distribution/efaktura.py); then
       Kivra (SE);
    6. the CUSIN DistributionType: PostalService, Email, EInvoiceB2B (needs VAN, Buyer and Seller id,
       else an error and paper to the billing address); EInvoiceB2C/Kivra without a consent fall through;
    7. the default priority: e-mail when known, else paper to the legal address.
    Protected identity in Sweden turns every paper route into Skatteverket's route.
    """
    if new_address is not None:
        if _has_postal_address(new_address):
            return ChannelChoice(
                channel=Channel.PAPER,
                route=PaperRoute.NEW_ADDRESS,
                address={"name": customer.name, **new_address},
                reason="re-sent on paper to the new address after returned mail",
            )
        return _paper(customer, reason="re-sent on paper to the registered postal address after a return")

    if kind == DocumentKind.SMS_REMINDER:
        if customer.phone:
            return ChannelChoice(
                channel=Channel.SMS,
                address={"phone": customer.phone},
                reason="SMS reminder to the mobile number",
            )
        return ChannelChoice(
            channel=Channel.ARCHIVE_ONLY,
            reason="SMS reminder but no mobile number known: archived only",
            error="no mobile number",
        )

    distribution_type = distribution_type or ""
    if distribution_type == NO_DISTRIBUTION:
        return ChannelChoice(
            channel=Channel.ARCHIVE_ONLY, reason="DistributionType NoDistribution: archive only"
        )

    if kind in PAPER_BY_LAW:
        return _paper(customer, reason=f"{kind} goes on paper to the registered address by law")
    if kind in set(paper_kinds):
        return _paper(customer, reason=f"{kind} goes on paper to the registered address by the client's rule")

    active = _active_consents(consents, booking_date)
    private = customer.legal_entity == LegalEntity.PRIVATE
    consent_kind = EINVOICE_CONSENT_BY_COUNTRY.get(ledger_country)
    if private and consent_kind in active:
        return ChannelChoice(
            channel=Channel.EINVOICE_B2C,
            address={"national_id": customer.national_id, "email": customer.email, "phone": customer.phone,
                     **({"receiver_id": efaktura_receiver} if efaktura_receiver else {})},
            reason=f"active e-invoice B2C consent ({consent_kind}) overrides the default priority",
        )  # fmt: skip
    if private and ledger_country == "NO" and efaktura_receiver:
        return ChannelChoice(
            channel=Channel.EINVOICE_B2C,
            address={"receiver_id": efaktura_receiver, "national_id": customer.national_id,
                     "email": customer.email, "phone": customer.phone},
            reason=f"eFaktura 2.0: receiver {efaktura_receiver} said yes to all (alias register)",
        )  # fmt: skip
    if ledger_country == "SE" and ConsentKind.KIVRA in active:
        return ChannelChoice(
            channel=Channel.KIVRA,
            address={"national_id": customer.national_id},
            reason="active Kivra consent",
        )

    fallthrough = ""
    if distribution_type == POSTAL_SERVICE:
        return _paper(customer, route=PaperRoute.BILLING_ADDRESS, reason="DistributionType PostalService")
    if distribution_type == EMAIL:
        if customer.email:
            return ChannelChoice(
                channel=Channel.EMAIL, address={"email": customer.email}, reason="DistributionType Email"
            )
        return _paper(customer, reason="DistributionType Email but no e-mail address: paper")
    if distribution_type == EINVOICE_B2B:
        missing = [
            name
            for name, value in (
                ("VAN", customer.edi_van),
                ("Buyer id", customer.edi_buyer_id),
                ("Seller id", customer.edi_seller_id),
            )
            if not value
        ]
        if missing:
            return _paper(
                customer,
                route=PaperRoute.BILLING_ADDRESS,
                reason="DistributionType EInvoiceB2B failed: paper copy to the billing address",
                error=f"EInvoiceB2B needs EDIInfo {', '.join(missing)}: missing",
            )
        if kind == DocumentKind.INVOICE:
            return ChannelChoice(
                channel=Channel.EINVOICE_B2B,
                address={
                    "van": customer.edi_van,
                    "buyer_id": customer.edi_buyer_id,
                    "seller_id": customer.edi_seller_id,
                },
                reason="DistributionType EInvoiceB2B with VAN, Buyer and Seller id",
            )
        fallthrough = f"EInvoiceB2B carries invoices only, not a {kind}; "
    if distribution_type in (EINVOICE_B2C, KIVRA):
        fallthrough = f"DistributionType {distribution_type} but no active consent; "

    if customer.email:
        return ChannelChoice(
            channel=Channel.EMAIL,
            address={"email": customer.email},
            reason=f"{fallthrough}default priority: e-mail address known",
        )
    return _paper(customer, reason=f"{fallthrough}default priority: no e-invoice consent or e-mail: paper")
