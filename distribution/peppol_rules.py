"""The PEPPOL BIS Billing 3.0 / EN 16931 business rules an EHF invoice of ours can break, checked before it
is sent (every access point applies them and refuses the invoice otherwise).

The official rules are Schematron files run by an XSLT 2 engine; neither is available on this machine, so
the rules that concern what we write (one line, one VAT category, no allowances or prepayments) are
written out here, each under its official identifier and wording, and tested one by one by breaking it
(tests/distribution/test_peppol.py). Rules for parts we never write (allowances, credit notes, invoice
periods, foreign currency) are not listed.
"""

from decimal import Decimal, InvalidOperation

from lxml import etree

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SELLER = "cac:AccountingSupplierParty/cac:Party"
BUYER = "cac:AccountingCustomerParty/cac:Party"
ISO_COUNTRY_PREFIXES = {"NO", "SE", "DK", "FI", "DE", "GB", "NL", "BE", "FR", "IS", "EE", "LV", "LT", "PL", "EL"}


def _text(root, path: str) -> str:
    return (root.findtext(path, namespaces=NS) or "").strip()


def _amount(root, path: str) -> Decimal | None:
    try:
        return Decimal(_text(root, path))
    except InvalidOperation:
        return None


def _seller_vat_ids(root) -> list[str]:
    return [
        (e.findtext("cbc:CompanyID", namespaces=NS) or "").strip()
        for e in root.findall(f"{SELLER}/cac:PartyTaxScheme", NS)
        if (e.findtext("cac:TaxScheme/cbc:ID", namespaces=NS) or "").strip() == "VAT"
    ]


def _categories(root) -> set[str]:
    return {(e.text or "").strip() for e in root.findall("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", NS)}


def _sums_add_up(root) -> bool:
    exclusive = _amount(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")
    inclusive = _amount(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")
    tax = _amount(root, "cac:TaxTotal/cbc:TaxAmount") or Decimal(0)
    return None not in (exclusive, inclusive) and inclusive == exclusive + tax


def _lines_add_up(root) -> bool:
    lines = [Decimal(e.text) for e in root.findall("cac:InvoiceLine/cbc:LineExtensionAmount", NS)]
    return _amount(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == sum(lines, Decimal(0))


# (rule, the official text in short, holds(root) -> bool)
RULES = [
    ("BR-01", "An Invoice shall have a Specification identifier", lambda r: bool(_text(r, "cbc:CustomizationID"))),
    ("BR-02", "An Invoice shall have an Invoice number", lambda r: bool(_text(r, "cbc:ID"))),
    ("BR-03", "An Invoice shall have an Invoice issue date", lambda r: bool(_text(r, "cbc:IssueDate"))),
    ("BR-04", "An Invoice shall have an Invoice type code", lambda r: bool(_text(r, "cbc:InvoiceTypeCode"))),
    ("BR-05", "An Invoice shall have an Invoice currency code", lambda r: bool(_text(r, "cbc:DocumentCurrencyCode"))),
    ("BR-06", "An Invoice shall contain the Seller name",
     lambda r: bool(_text(r, f"{SELLER}/cac:PartyLegalEntity/cbc:RegistrationName"))),
    ("BR-07", "An Invoice shall contain the Buyer name",
     lambda r: bool(_text(r, f"{BUYER}/cac:PartyLegalEntity/cbc:RegistrationName"))),
    ("BR-08", "An Invoice shall contain the Seller postal address",
     lambda r: r.find(f"{SELLER}/cac:PostalAddress", NS) is not None),
    ("BR-09", "The Seller postal address shall contain a Seller country code",
     lambda r: bool(_text(r, f"{SELLER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode"))),
    ("BR-10", "An Invoice shall contain the Buyer postal address",
     lambda r: r.find(f"{BUYER}/cac:PostalAddress", NS) is not None),
    ("BR-11", "The Buyer postal address shall contain a Buyer country code",
     lambda r: bool(_text(r, f"{BUYER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode"))),
    ("BR-12", "An Invoice shall have the Sum of Invoice line net amount",
     lambda r: _amount(r, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") is not None),
    ("BR-13", "An Invoice shall have the Invoice total amount without VAT",
     lambda r: _amount(r, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") is not None),
    ("BR-14", "An Invoice shall have the Invoice total amount with VAT",
     lambda r: _amount(r, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") is not None),
    ("BR-15", "An Invoice shall have the Amount due for payment",
     lambda r: _amount(r, "cac:LegalMonetaryTotal/cbc:PayableAmount") is not None),
    ("BR-16", "An Invoice shall have at least one Invoice line", lambda r: r.find("cac:InvoiceLine", NS) is not None),
    ("BR-CO-10", "Sum of Invoice line net amount = sum of the Invoice line net amounts", _lines_add_up),
    ("BR-CO-15", "Invoice total amount with VAT = Invoice total amount without VAT + Invoice total VAT amount",
     _sums_add_up),
    ("BR-CO-26", "The Seller identifier, the Seller legal registration identifier and/or the Seller VAT "
     "identifier shall be present",
     lambda r: bool(_text(r, f"{SELLER}/cac:PartyLegalEntity/cbc:CompanyID") or _seller_vat_ids(r)
                    or _text(r, f"{SELLER}/cac:PartyIdentification/cbc:ID"))),
    ("BR-CO-09", "The Seller VAT identifier shall have a prefix of an ISO 3166-1 alpha-2 country code",
     lambda r: all(v[:2] in ISO_COUNTRY_PREFIXES for v in _seller_vat_ids(r))),
    ("BR-S-02", "An Invoice with a VAT breakdown of category Standard rated shall contain the Seller VAT "
     "identifier", lambda r: "S" not in _categories(r) or bool(_seller_vat_ids(r))),
    ("BR-Z-02", "An Invoice with a VAT breakdown of category Zero rated shall contain the Seller VAT identifier",
     lambda r: "Z" not in _categories(r) or bool(_seller_vat_ids(r))),
    ("BR-O-02", "An Invoice with a VAT breakdown of category Not subject to VAT shall not contain the Seller "
     "VAT identifier", lambda r: "O" not in _categories(r) or not _seller_vat_ids(r)),
    ("BR-O-05", "An Invoice line of category Not subject to VAT shall not contain an Invoiced item VAT rate",
     lambda r: "O" not in _categories(r)
     or r.find("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", NS) is None),
    ("BR-O-10", "A VAT breakdown of category Not subject to VAT shall have a VAT exemption reason",
     lambda r: "O" not in _categories(r)
     or bool(_text(r, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason"))),
    ("PEPPOL-EN16931-R001", "Business process MUST be provided", lambda r: bool(_text(r, "cbc:ProfileID"))),
    ("PEPPOL-EN16931-R010", "Buyer electronic address MUST be provided", lambda r: bool(_text(r, f"{BUYER}/cbc:EndpointID"))),
    ("PEPPOL-EN16931-R020", "Seller electronic address MUST be provided",
     lambda r: bool(_text(r, f"{SELLER}/cbc:EndpointID"))),
    ("NO-R-001", "For Norwegian suppliers, a VAT number MUST be the country code prefix NO followed by a valid "
     "Norwegian organization number (nine numbers) followed by the letters MVA",
     lambda r: _text(r, f"{SELLER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode") != "NO"
     or all(len(v) == 14 and v.startswith("NO") and v.endswith("MVA") and v[2:11].isdigit()
            for v in _seller_vat_ids(r))),
]  # fmt: skip


def peppol_rules_broken(content: bytes) -> list[tuple[str, str]]:
    """The rules `content` breaks, as (rule, text); empty when it satisfies them all."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(content, parser)
    return [(rule, text) for rule, text, holds in RULES if not holds(root)]
