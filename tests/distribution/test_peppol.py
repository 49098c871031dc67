"""The EHF / PEPPOL BIS Billing 3.0 invoice: the official sample's structure and the PEPPOL sums."""

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from distribution.models import Document
from distribution.peppol import CUSTOMIZATION_ID, PROFILE_ID, peppol_invoice_xml, ubl_invoice_validate
from distribution.peppol_rules import peppol_rules_broken
from distribution.services.queueing import DocumentRequest, documents_queue
from ledger.errors import ValidationFailed
from ledger.models import LegalEntity
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory
from tests.helpers import SAMPLES

SAMPLE = SAMPLES / "peppol" / "BIS3_Invoice_positive.xml"
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


# The UBL 2.1 Invoice schema's sequence of the top-level elements PEPPOL BIS 3 uses (UBL-Invoice-2.1.xsd).
UBL_INVOICE_ORDER = [
    "UBLExtensions",
    "UBLVersionID",
    "CustomizationID",
    "ProfileID",
    "ProfileExecutionID",
    "ID",
    "CopyIndicator",
    "UUID",
    "IssueDate",
    "IssueTime",
    "DueDate",
    "InvoiceTypeCode",
    "Note",
    "TaxPointDate",
    "DocumentCurrencyCode",
    "TaxCurrencyCode",
    "PricingCurrencyCode",
    "PaymentCurrencyCode",
    "PaymentAlternativeCurrencyCode",
    "AccountingCostCode",
    "AccountingCost",
    "LineCountNumeric",
    "BuyerReference",
    "InvoicePeriod",
    "OrderReference",
    "BillingReference",
    "DespatchDocumentReference",
    "ReceiptDocumentReference",
    "StatementDocumentReference",
    "OriginatorDocumentReference",
    "ContractDocumentReference",
    "AdditionalDocumentReference",
    "ProjectReference",
    "Signature",
    "AccountingSupplierParty",
    "AccountingCustomerParty",
    "PayeeParty",
    "BuyerCustomerParty",
    "SellerSupplierParty",
    "TaxRepresentativeParty",
    "Delivery",
    "DeliveryTerms",
    "PaymentMeans",
    "PaymentTerms",
    "PrepaidPayment",
    "AllowanceCharge",
    "TaxExchangeRate",
    "PricingExchangeRate",
    "PaymentExchangeRate",
    "PaymentAlternativeExchangeRate",
    "TaxTotal",
    "WithholdingTaxTotal",
    "LegalMonetaryTotal",
    "InvoiceLine",
]


def _order(element) -> list[str]:
    names = []
    for child in element:
        name = etree.QName(child).localname
        if not names or names[-1] != name:
            names.append(name)
    return names


def _is_subsequence(ours: list[str], reference: list[str]) -> bool:
    position = iter(reference)
    return all(name in position for name in ours)


def registered(ledger, *, org_no="923609016", vat=True):
    ledger.client.org_no, ledger.client.vat_registered = org_no, vat
    ledger.client.save(update_fields=["org_no", "vat_registered"])


def ehf_for(ledger, *, vat="250.00", buyer_id="987654321", seller_id=""):
    customer = CustomerFactory(ledger=ledger, legal_entity=LegalEntity.BUSINESS, edi_van="PEPPOL",
                               edi_buyer_id=buyer_id, edi_seller_id=seller_id, national_id="987654321")  # fmt: skip
    vat = Decimal(vat)
    invoice = make_invoice(ledger, customer=customer, amount=str(Decimal("1000.00") + vat),
                           amount_excl_vat=Decimal("1000.00"), vat_amount=vat)  # fmt: skip
    documents_queue(requests=[DocumentRequest(ledger.id, customer.id, invoice.id, "invoice", date(2026, 1, 5),
                                              f"i{invoice.id}", {})])  # fmt: skip
    document = Document.objects.select_related("ledger__client", "customer", "invoice").get(invoice=invoice)
    return peppol_invoice_xml(document, pdf=b"%PDF-1.7 test", pdf_name="invoice.pdf")


def test_the_seller_carries_its_vat_identifier_and_legal_registration(db, ledger_no):
    registered(ledger_no)
    root = etree.fromstring(ehf_for(ledger_no))
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    schemes = {s.findtext("cac:TaxScheme/cbc:ID", namespaces=NS): s.findtext("cbc:CompanyID", namespaces=NS)
               for s in seller.findall("cac:PartyTaxScheme", NS)}  # fmt: skip
    assert schemes == {"VAT": "NO923609016MVA", "TAX": "Foretaksregisteret"}  # BR-S-02, NO-R-001, NO-R-002
    assert seller.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS) == "923609016"  # BR-CO-26
    endpoint = seller.find("cbc:EndpointID", NS)  # PEPPOL-EN16931-R020: the org. no. when no SellerId is given
    assert (endpoint.text, endpoint.get("schemeID")) == ("923609016", "0192")
    assert peppol_rules_broken(etree.tostring(root)) == []


def test_a_zero_vat_invoice_of_a_registered_seller_is_zero_rated_and_of_an_unregistered_one_not_subject(
    db, ledger_no
):
    registered(ledger_no)
    root = etree.fromstring(ehf_for(ledger_no, vat="0.00"))
    assert root.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", namespaces=NS) == "Z"
    registered(ledger_no, vat=False)
    root = etree.fromstring(ehf_for(ledger_no, vat="0.00"))
    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert category.findtext("cbc:ID", namespaces=NS) == "O" and category.find("cbc:Percent", NS) is None
    assert category.findtext("cbc:TaxExemptionReason", namespaces=NS)  # BR-O-10
    assert "VAT" not in [e.text for e in root.findall("cac:AccountingSupplierParty//cac:TaxScheme/cbc:ID", NS)]
    assert peppol_rules_broken(etree.tostring(root)) == []


def test_an_ehf_that_cannot_satisfy_the_rules_is_refused_by_name(db, ledger_no):
    registered(ledger_no, vat=False)
    with pytest.raises(ValidationFailed) as error:
        ehf_for(ledger_no)  # VAT on the invoice, the client not registered for VAT
    assert error.value.code == "ehf_seller_not_vat_registered" and "BR-S-02" in error.value.message
    registered(ledger_no, org_no="")
    with pytest.raises(ValidationFailed) as error:
        ehf_for(ledger_no)  # no SellerId and no organisation number: no seller electronic address
    assert error.value.code == "ehf_endpoint_missing" and "R020" in error.value.message


# Each rule, broken in an EHF that satisfies them all: the checker names exactly that rule.
BREAKS = [
    ("BR-02", lambda r: _drop(r, "cbc:ID")),
    ("BR-06", lambda r: _drop(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")),
    ("BR-07", lambda r: _drop(r, "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")),
    ("BR-11", lambda r: _drop(r, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country")),
    ("BR-CO-10", lambda r: _set(r, "cac:InvoiceLine/cbc:LineExtensionAmount", "999.00")),
    ("BR-CO-15", lambda r: _set(r, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "1249.00")),
    ("BR-CO-09", lambda r: _set(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
                                "XX923609016MVA")),
    ("BR-CO-26", lambda r: [_drop(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID"),
                            _drop(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme")]),
    ("BR-S-02", lambda r: _drop(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme")),
    ("NO-R-001", lambda r: _set(r, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
                                "NO923609016")),
    ("PEPPOL-EN16931-R010", lambda r: _set(r, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", "")),
    ("PEPPOL-EN16931-R020", lambda r: _set(r, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", "")),
]  # fmt: skip


def _drop(root, path):
    element = root.find(path, NS)
    element.getparent().remove(element)


def _set(root, path, text):
    root.find(path, NS).text = text


@pytest.mark.parametrize(("rule", "breaks"), BREAKS, ids=[rule for rule, _ in BREAKS])
def test_each_rule_is_checked(db, ledger_no, rule, breaks):
    registered(ledger_no)
    root = etree.fromstring(ehf_for(ledger_no))
    breaks(root)
    broken = [r for r, _ in peppol_rules_broken(etree.tostring(root))]
    assert rule in broken and set(broken) <= {rule, "BR-S-02", "BR-CO-26", "NO-R-001"}  # the ones it implies


def test_ehf_invoice_follows_the_official_sample_and_peppol_sums(db, ledger_no):
    registered(ledger_no)
    customer = CustomerFactory(
        ledger=ledger_no,
        legal_entity=LegalEntity.BUSINESS,
        edi_van="PEPPOL",
        edi_buyer_id="987654321",
        edi_seller_id="912345678",
        national_id="987654321",
    )
    invoice = make_invoice(
        ledger_no,
        customer=customer,
        amount="1250.00",
        amount_excl_vat=Decimal("1000.00"),
        vat_amount=Decimal("250.00"),
        reference_text="Konsulenttjenester",
    )
    documents_queue(
        requests=[
            DocumentRequest(ledger_no.id, customer.id, invoice.id, "invoice", date(2026, 1, 5), "i", {})
        ]
    )
    document = Document.objects.select_related("ledger__client", "customer", "invoice").get()
    root = etree.fromstring(peppol_invoice_xml(document, pdf=b"%PDF-1.7 test", pdf_name="invoice.pdf"))
    sample = etree.parse(str(SAMPLE)).getroot()

    assert root.tag == sample.tag
    # Both are valid against the official UBL 2.1 Invoice schema (peppol_invoice_xml also checks before it
    # returns anything).
    ubl_invoice_validate(etree.tostring(root))
    ubl_invoice_validate(SAMPLE.read_bytes())
    # Same element order as the official sample (UBL 2.1 schema order), at the top and in the parts.
    assert _is_subsequence(_order(sample), UBL_INVOICE_ORDER)  # the list above is the schema's order
    assert _is_subsequence(_order(root), UBL_INVOICE_ORDER), _order(root)
    for path in (
        "cac:AccountingSupplierParty/cac:Party",
        "cac:LegalMonetaryTotal",
        "cac:InvoiceLine",
        "cac:TaxTotal/cac:TaxSubtotal",
        "cac:PaymentMeans",
    ):
        assert _is_subsequence(_order(root.find(path, NS)), _order(sample.find(path, NS))), path
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == CUSTOMIZATION_ID
    assert sample.findtext("cbc:CustomizationID", namespaces=NS) == CUSTOMIZATION_ID
    assert root.findtext("cbc:ProfileID", namespaces=NS) == PROFILE_ID
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"

    def amount(path):
        return Decimal(root.findtext(path, namespaces=NS))

    # PEPPOL/EN 16931 sums: BR-CO-13, BR-CO-15, BR-CO-16 (no prepaid, no rounding).
    lines = sum(Decimal(x.text) for x in root.findall("cac:InvoiceLine/cbc:LineExtensionAmount", NS))
    assert amount("cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == lines == Decimal("1000.00")
    assert amount("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == amount(
        "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount"
    ) + amount("cac:TaxTotal/cbc:TaxAmount")
    assert amount("cac:LegalMonetaryTotal/cbc:PayableAmount") == invoice.amount
    assert root.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent", namespaces=NS) == "25.00"
    assert root.find("cbc:AccountingSupplierParty", NS) is None
    assert root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS).get("schemeID") == "0192"
    attachment = root.find(
        "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS
    )
    assert attachment.get("mimeCode") == "application/pdf" and attachment.get("filename") == "invoice.pdf"
    assert {e.get("currencyID") for e in root.iter() if e.get("currencyID")} == {"NOK"}


def test_an_invalid_ubl_invoice_is_refused_with_the_schema_error():
    import pytest

    from ledger.errors import ValidationFailed

    broken = (
        SAMPLE.read_bytes()
        .replace(b"<cbc:IssueDate>", b"<cbc:IssueDay>")
        .replace(b"</cbc:IssueDate>", b"</cbc:IssueDay>")
    )
    with pytest.raises(ValidationFailed) as error:
        ubl_invoice_validate(broken)
    assert error.value.code == "ehf_invalid" and "IssueDay" in error.value.message
