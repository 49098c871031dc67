"""One CUSINInfo element read into plain data. The schema has already validated the structure."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from ledger.models import ConsentKind

# CUSIN rule names -> our consent kinds.
PAYMENT_RULES = {"UseBGAGSE": ConsentKind.AUTOGIRO_SE, "UseBKAGNO": ConsentKind.AVTALEGIRO_NO}
DISTRIBUTION_RULES = {
    "UseEInvoiceB2CSE": ConsentKind.EINVOICE_B2C_SE,
    "UseEInvoiceB2CNO": ConsentKind.EINVOICE_B2C_NO,
    "UseEInvoiceB2CFI": ConsentKind.EINVOICE_B2C_FI,
}
LEGAL_ENTITIES = {"Private": "private", "Business": "business"}


@dataclass
class CustomerRecord:
    name: str
    legal_entity: str | None  # None: not given (a new customer is private)
    reg_no: str
    reg_no_country: str
    legal_address: dict
    billing_address: dict
    email: str
    phone: str
    consents: dict[str, bool]
    distribution_type: str
    edi: dict
    protected_identity: bool | None  # None: not given


@dataclass
class InvoiceRecord:
    line: int
    invoice_no: str
    with_distribution: bool
    invoice_date: date
    due_date: date | None
    currency: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    total_amount: Decimal | None
    payment_ref: str
    reference_text: str
    print_blocks: list | None
    print_block_error: str = ""

    @property
    def amount(self) -> Decimal:
        return self.amount_excl_vat + self.vat_amount


@dataclass
class CreditRecord:
    line: int
    credit_note_no: str
    credited_invoice_no: str
    currency: str | None
    amount: Decimal | None
    cause: str
    reason: str


@dataclass
class CusinRecord:
    line: int
    customer_no: str
    customer: CustomerRecord | None
    invoices: list[InvoiceRecord] = field(default_factory=list)
    credits: list[CreditRecord] = field(default_factory=list)
    # Invoices and credits in document order, so a credit can follow its invoice.
    items: list[InvoiceRecord | CreditRecord] = field(default_factory=list)


def _text(element: etree._Element | None, path: str | None = None) -> str:
    if element is not None and path is not None:
        element = element.find(path)
    return (element.text or "").strip() if element is not None else ""


def _decimal(element: etree._Element, path: str) -> Decimal | None:
    value = _text(element, path)
    return Decimal(value) if value else None


def _date(element: etree._Element, path: str) -> date | None:
    value = _text(element, path)
    return date.fromisoformat(value[:10]) if value else None


def _address(element: etree._Element | None) -> dict:
    if element is None:
        return {}
    return {
        "addressee": _text(element, "Addressee"),
        "street": _text(element, "StreetAddress"),
        "co": _text(element, "CoAddress"),
        "postal_code": _text(element, "ZipCode"),
        "city": _text(element, "City"),
        "country": _text(element, "CountryCode"),
    }


def _rules(elements, names: dict) -> dict[str, bool]:
    return {names[e.get("Rule")]: _text(e, "Value") == "1" for e in elements if e.get("Rule") in names}


def _customer(info: etree._Element) -> CustomerRecord:
    reg_no = info.find("RegNo")
    addresses = {a.get("AddressType"): a for a in info.iterfind("DistributionAddressInfo/Addresses/Address")}
    bill_type = info.find("DistributionInfo/Set/BillTypes/BillType[@DistributionBillType='I_Invoice']")
    consents = _rules(info.iterfind("PaymentInfo/Set/PaymentRules/PaymentRule"), PAYMENT_RULES)
    if bill_type is not None:
        consents |= _rules(bill_type.iterfind("DistributionRules/DistributionRule"), DISTRIBUTION_RULES)
    legal_entity = _text(info, "LegalEntity")
    protected = _text(info, "ProtectedIdentity")
    return CustomerRecord(
        name=_text(info, "Name"),
        legal_entity=LEGAL_ENTITIES.get(legal_entity) if legal_entity else None,
        reg_no=_text(reg_no),
        reg_no_country=reg_no.get("CountryCode", "") if reg_no is not None else "",
        legal_address=_address(addresses.get("LegalAddress")),
        billing_address=_address(addresses.get("BillingAddress")),
        email=_text(info, "DistributionAddressInfo/E-MailAddress"),
        phone=_text(info, "DistributionAddressInfo/PhoneNumber"),
        consents=consents,
        distribution_type=_text(bill_type, "DistributionType") if bill_type is not None else "",
        edi={
            "van": _text(info, "EDIInfo/VAN"),
            "buyer_id": _text(info, "EDIInfo/BuyerId"),
            "seller_id": _text(info, "EDIInfo/SellerId"),
        },
        protected_identity=protected in ("1", "true") if protected else None,
    )


class PrintBlockError(ValueError):
    pass


def _columns(columns: etree._Element | None) -> dict[str, str]:
    if columns is None:
        return {}
    # The schema makes every child a Column whose only child is Text: index instead of searching.
    values = {column.get("ColumnNo"): column[0].text or "" for column in columns}
    if len(values) != len(columns):
        numbers = [column.get("ColumnNo") for column in columns]
        repeated = next(n for n in numbers if numbers.count(n) > 1)
        raise PrintBlockError(f"ColumnNo {repeated} appears twice in one row (line {columns.sourceline})")
    return values


def _print_blocks(invoice: etree._Element) -> list | None:
    blocks = invoice.findall(
        "DistributionInfo/InvoicePrintInfo/InvoicePrintBlocks/StandardPrintBlock/BasePrintBlock/"
        "SubOrderBlocks/SubOrderBlock"
    )
    if not blocks:
        return None
    return [
        {
            "table_type": block.get("TableType"),
            "head": _columns(block.find("ColumnHeadLine/Columns")),
            "rows": [_columns(row.find("Columns")) for row in block.iterfind("Rows/Row")],
        }
        for block in blocks
    ]


def _invoice(element: etree._Element) -> InvoiceRecord:
    amount = element.find("Amount")
    try:
        print_blocks, print_block_error = _print_blocks(element), ""
    except PrintBlockError as exc:
        print_blocks, print_block_error = None, str(exc)
    return InvoiceRecord(
        line=element.sourceline,
        invoice_no=_text(element, "InvoiceNo"),
        with_distribution=element.tag == "InvoiceWithDistribution",
        invoice_date=_date(element, "InvoiceDate"),
        due_date=_date(element, "DueDate"),
        currency=amount.get("Currency", ""),
        amount_excl_vat=_decimal(amount, "AmountExclVat"),
        vat_amount=_decimal(amount, "VatAmount"),
        total_amount=_decimal(amount, "TotalAmount"),
        payment_ref=_text(element, "PaymentRefNo"),
        reference_text=_text(element, "InvoiceReferenceText"),
        print_blocks=print_blocks,
        print_block_error=print_block_error,
    )


def _credit(element: etree._Element) -> CreditRecord:
    amount = element.find("Amount")
    total = None
    if amount is not None:
        given = _decimal(amount, "TotalAmount")
        total = (
            given if given is not None else _decimal(amount, "AmountExclVat") + _decimal(amount, "VatAmount")
        )
    return CreditRecord(
        line=element.sourceline,
        credit_note_no=_text(element, "InvoiceNo"),
        credited_invoice_no=_text(element, "CreditedInvoiceNo"),
        currency=amount.get("Currency") if amount is not None else None,
        amount=total,
        cause=_text(element, "Cause"),
        reason=_text(element, "Reason"),
    )


def parse_record(element: etree._Element) -> CusinRecord:
    info = element.find("CustomerInfo")
    record = CusinRecord(
        line=element.sourceline,
        customer_no=_text(element, "CustomerNo"),
        customer=_customer(info) if info is not None and len(info) else None,
    )
    for item in element.iterfind("Invoices/*"):
        if item.tag == "CreditInvoice":
            credit = _credit(item)
            record.credits.append(credit)
            record.items.append(credit)
        else:
            invoice = _invoice(item)
            record.invoices.append(invoice)
            record.items.append(invoice)
    return record
