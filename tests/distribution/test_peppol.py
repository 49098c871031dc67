"""The EHF / PEPPOL BIS Billing 3.0 invoice: the official sample's structure and the PEPPOL sums."""

from datetime import date
from decimal import Decimal

from lxml import etree

from distribution.models import Document
from distribution.peppol import CUSTOMIZATION_ID, PROFILE_ID, peppol_invoice_xml, ubl_invoice_validate
from distribution.services import DocumentRequest, documents_queue
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


def test_ehf_invoice_follows_the_official_sample_and_peppol_sums(db, ledger_no):
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
