"""EHF / PEPPOL BIS Billing 3.0 UBL 2.1 invoice for a B2B document.

Elements are written in the order the UBL 2.1 Invoice schema prescribes (the order of
tests/samples/peppol/BIS3_Invoice_positive.xml). The invoice PDF travels embedded as an
AdditionalDocumentReference, as EHF receivers expect.
"""

import base64
import functools
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from lxml import etree

from ledger.edi_ids import edi_endpoint, vat_identifier
from ledger.errors import ValidationFailed
from ledger.money import ZERO, format_money

from .models import Document
from .peppol_rules import peppol_rules_broken

UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _cbc(parent, name, text, **attrs):
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", **attrs)
    element.text = str(text)
    return element


def _cac(parent, name):
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _party(parent, role: str, *, endpoint: str, country: str, name: str, address: dict, org_no: str,
           tax_schemes=()):  # fmt: skip
    if not endpoint:
        raise ValidationFailed(
            f"the EHF invoice has no electronic address for the {'seller' if 'Supplier' in role else 'buyer'} "
            "(PEPPOL-EN16931-R020/R010): give EDIInfo " + ("SellerId or the client's organisation number"
                                                          if "Supplier" in role else "BuyerId"),
            code="ehf_endpoint_missing",
        )
    party = _cac(_cac(parent, role), "Party")
    scheme, endpoint_id = edi_endpoint(endpoint, country=country)
    _cbc(party, "EndpointID", endpoint_id, schemeID=scheme)
    _cbc(_cac(party, "PartyName"), "Name", name)
    postal = _cac(party, "PostalAddress")
    if address.get("line1"):
        _cbc(postal, "StreetName", address["line1"])
    if address.get("city"):
        _cbc(postal, "CityName", address["city"])
    if address.get("postal_code"):
        _cbc(postal, "PostalZone", address["postal_code"])
    _cbc(_cac(postal, "Country"), "IdentificationCode", country or "NO")
    for company_id, tax_scheme in tax_schemes:
        tax = _cac(party, "PartyTaxScheme")
        _cbc(tax, "CompanyID", company_id)
        _cbc(_cac(tax, "TaxScheme"), "ID", tax_scheme)
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", name)
    if org_no:
        _cbc(legal, "CompanyID", org_no)


def _seller_tax_schemes(client, country: str) -> list[tuple[str, str]]:
    """The seller's VAT identifier (BT-31) when registered; a Norwegian company also says it is in
    Foretaksregisteret (NO-R-002)."""
    schemes = []
    if client.vat_registered and client.org_no:
        schemes.append((vat_identifier(client.org_no, country=country), "VAT"))
    if country == "NO" and client.org_no:
        schemes.append(("Foretaksregisteret", "TAX"))
    return schemes


def peppol_invoice_xml(document: Document, *, pdf: bytes, pdf_name: str) -> bytes:
    invoice = document.invoice
    ledger = document.ledger
    customer = document.customer
    currency = invoice.currency
    total = invoice.amount
    vat = invoice.vat_amount if invoice.vat_amount is not None else ZERO
    net = invoice.amount_excl_vat if invoice.amount_excl_vat is not None else total - vat
    client = ledger.client
    if vat > 0 and net > 0:
        if not client.vat_registered:
            raise ValidationFailed(
                f"invoice {invoice.invoice_no} has VAT, but client {client.name} is not registered for VAT: "
                "an EHF with VAT needs the seller's VAT identifier (BR-S-02)",
                code="ehf_seller_not_vat_registered",
            )
        category, percent = "S", (vat * 100 / net).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    elif client.vat_registered:
        category, percent = "Z", Decimal("0")
    else:
        category, percent = "O", None  # not subject to VAT: no rate, no seller VAT identifier (BR-O-*)

    root = etree.Element(f"{{{UBL}}}Invoice", nsmap={None: UBL, "cac": CAC, "cbc": CBC})
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", invoice.invoice_no)
    _cbc(root, "IssueDate", invoice.invoice_date.isoformat())
    _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "InvoiceTypeCode", "380")
    if invoice.reference_text:
        _cbc(root, "Note", invoice.reference_text)
    _cbc(root, "DocumentCurrencyCode", currency)
    _cbc(root, "BuyerReference", customer.customer_no)
    reference = _cac(root, "AdditionalDocumentReference")
    _cbc(reference, "ID", invoice.invoice_no)
    _cbc(
        _cac(reference, "Attachment"),
        "EmbeddedDocumentBinaryObject",
        base64.b64encode(pdf).decode(),
        mimeCode="application/pdf",
        filename=pdf_name,
    )
    _party(
        root,
        "AccountingSupplierParty",
        endpoint=customer.edi_seller_id or client.org_no,
        country=ledger.country,
        name=client.name,
        address={},
        org_no=client.org_no,
        tax_schemes=_seller_tax_schemes(client, ledger.country) if category != "O" else
        [s for s in _seller_tax_schemes(client, ledger.country) if s[1] != "VAT"],
    )
    _party(
        root,
        "AccountingCustomerParty",
        endpoint=customer.edi_buyer_id,
        country=customer.country or ledger.country,
        name=customer.name,
        address={"line1": customer.address_line1, "city": customer.city, "postal_code": customer.postal_code},
        org_no=customer.national_id,
    )
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", "30")
    _cbc(means, "PaymentID", invoice.payment_ref)
    if ledger.client_funds_account:
        _cbc(_cac(means, "PayeeFinancialAccount"), "ID", ledger.client_funds_account)

    tax_total = _cac(root, "TaxTotal")
    _cbc(tax_total, "TaxAmount", format_money(vat), currencyID=currency)
    subtotal = _cac(tax_total, "TaxSubtotal")
    _cbc(subtotal, "TaxableAmount", format_money(net), currencyID=currency)
    _cbc(subtotal, "TaxAmount", format_money(vat), currencyID=currency)
    _tax_category(_cac(subtotal, "TaxCategory"), category, percent, subtotal=True)

    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", format_money(net), currencyID=currency)
    _cbc(totals, "TaxExclusiveAmount", format_money(net), currencyID=currency)
    _cbc(totals, "TaxInclusiveAmount", format_money(net + vat), currencyID=currency)
    _cbc(totals, "PayableAmount", format_money(net + vat), currencyID=currency)

    line = _cac(root, "InvoiceLine")
    _cbc(line, "ID", "1")
    _cbc(line, "InvoicedQuantity", "1", unitCode="EA")
    _cbc(line, "LineExtensionAmount", format_money(net), currencyID=currency)
    item = _cac(line, "Item")
    _cbc(item, "Name", invoice.reference_text or ledger.default_reference_text or invoice.invoice_no)
    _tax_category(_cac(item, "ClassifiedTaxCategory"), category, percent)
    _cbc(_cac(line, "Price"), "PriceAmount", format_money(net), currencyID=currency)
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    ubl_invoice_validate(content)
    broken = peppol_rules_broken(content)
    if broken:
        raise ValidationFailed(
            "the EHF invoice breaks " + "; ".join(f"{rule}: {why}" for rule, why in broken), code="ehf_rules_broken"
        )
    return content


# The official OASIS UBL 2.1 schemas (xsd/ubl-2.1/, as published; the Invoice schema imports the rest).
UBL_INVOICE_XSD = Path(settings.BASE_DIR) / "xsd" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"


@functools.cache
def _ubl_invoice_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    return etree.XMLSchema(etree.parse(str(UBL_INVOICE_XSD), parser))


def ubl_invoice_validate(content: bytes) -> None:
    """Raise ValidationFailed unless `content` is a valid UBL 2.1 Invoice: nothing invalid is sent."""
    schema = _ubl_invoice_schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    if not schema.validate(etree.fromstring(content, parser).getroottree()):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:3])
        raise ValidationFailed(f"the EHF invoice is not valid UBL 2.1: {errors}", code="ehf_invalid")


def _tax_category(parent, category: str, percent: Decimal | None, *, subtotal: bool = False) -> None:
    _cbc(parent, "ID", category)
    if percent is not None:
        _cbc(parent, "Percent", str(percent))
    if category == "O" and subtotal:  # BR-O-10: the exemption reason on the VAT breakdown
        _cbc(parent, "TaxExemptionReason", "Not subject to VAT")
    _cbc(_cac(parent, "TaxScheme"), "ID", "VAT")
