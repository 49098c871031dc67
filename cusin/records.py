"""One CUSINInfo element read into plain data. The schema has already validated the structure."""

import base64
import binascii
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
    guardian_customer_no: str | None = None  # None: not given


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
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, PDF)
    attachment_error: str = ""
    payer_customer_no: str = ""

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


def _children(element: etree._Element | None) -> dict[str, etree._Element]:
    """The element's children by tag, read in one pass (a find() per field costs more than this).

    Only for elements whose schema type allows each child tag at most once.
    """
    return {child.tag: child for child in element} if element is not None else {}


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def _date(value: str) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _address(element: etree._Element | None) -> dict:
    if element is None:
        return {}
    fields = _children(element)
    return {
        "addressee": _text(fields.get("Addressee")),
        "street": _text(fields.get("StreetAddress")),
        "co": _text(fields.get("CoAddress")),
        "postal_code": _text(fields.get("ZipCode")),
        "city": _text(fields.get("City")),
        "country": _text(fields.get("CountryCode")),
    }


def _rules(elements, names: dict) -> dict[str, bool]:
    return {names[e.get("Rule")]: _text(e, "Value") == "1" for e in elements if e.get("Rule") in names}


def _customer(info: etree._Element) -> CustomerRecord:
    # The schema fixes the paths below: PaymentInfo/Set/PaymentRules, DistributionInfo/Set/BillTypes
    # and DistributionAddressInfo/Addresses each have exactly one child per step.
    fields = _children(info)
    reg_no = fields.get("RegNo")
    address_info = _children(fields.get("DistributionAddressInfo"))
    addresses = {a.get("AddressType"): a for a in address_info.get("Addresses", ())}
    bill_type = None
    if (distribution := fields.get("DistributionInfo")) is not None:
        bill_type = next(
            (b for b in distribution[0][0] if b.get("DistributionBillType") == "I_Invoice"), None
        )
    payment = fields.get("PaymentInfo")
    consents = _rules(payment[0][0], PAYMENT_RULES) if payment is not None else {}
    if bill_type is not None:
        consents |= _rules(bill_type.iterfind("DistributionRules/DistributionRule"), DISTRIBUTION_RULES)
    legal_entity = _text(fields.get("LegalEntity"))
    protected = _text(fields.get("ProtectedIdentity"))
    edi = _children(fields.get("EDIInfo"))
    return CustomerRecord(
        name=_text(fields.get("Name")),
        legal_entity=LEGAL_ENTITIES.get(legal_entity) if legal_entity else None,
        reg_no=_text(reg_no),
        reg_no_country=reg_no.get("CountryCode", "") if reg_no is not None else "",
        legal_address=_address(addresses.get("LegalAddress")),
        billing_address=_address(addresses.get("BillingAddress")),
        email=_text(address_info.get("E-MailAddress")),
        phone=_text(address_info.get("PhoneNumber")),
        consents=consents,
        distribution_type=_text(bill_type, "DistributionType") if bill_type is not None else "",
        edi={
            "van": _text(edi.get("VAN")),
            "buyer_id": _text(edi.get("BuyerId")),
            "seller_id": _text(edi.get("SellerId")),
        },
        protected_identity=protected in ("1", "true") if protected else None,
        guardian_customer_no=_text(fields["GuardianCustomerNo"]) if "GuardianCustomerNo" in fields else None,
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


def _print_blocks(distribution: etree._Element | None) -> list | None:
    if distribution is None:
        return None
    # DistributionInfo/InvoicePrintInfo/InvoicePrintBlocks/StandardPrintBlock/BasePrintBlock: one
    # child per step (the schema), so indexed; BasePrintBlock's only child is SubOrderBlocks, if any.
    base = distribution[0][0][0][0]
    if not len(base):
        return None
    blocks = []
    for block in base[0]:
        head, rows = {}, []
        for part in block:  # ColumnHeadLine/Columns, then Rows/Row/Columns (each optional)
            if part.tag == "ColumnHeadLine":
                head = _columns(part[0])
            elif part.tag == "Rows":
                rows = [_columns(row[0]) for row in part]
        blocks.append({"table_type": block.get("TableType"), "head": head, "rows": rows})
    return blocks or None


def _invoice(element: etree._Element) -> InvoiceRecord:
    fields = _children(element)
    amount = fields["Amount"]
    amounts = _children(amount)
    try:
        print_blocks, print_block_error = _print_blocks(fields.get("DistributionInfo")), ""
    except PrintBlockError as exc:
        print_blocks, print_block_error = None, str(exc)
    attachments, attachment_error = [], ""
    for attachment in fields["Attachments"].iterchildren("Attachment") if "Attachments" in fields else ():
        name = attachment.get("FileName", "")
        try:
            attachments.append((name, base64.b64decode("".join((attachment.text or "").split()), validate=True)))
        except binascii.Error as exc:
            attachment_error = f"attachment {name!r} (line {attachment.sourceline}): not base64: {exc}"
    return InvoiceRecord(
        line=element.sourceline,
        invoice_no=_text(fields.get("InvoiceNo")),
        with_distribution=element.tag == "InvoiceWithDistribution",
        invoice_date=_date(_text(fields.get("InvoiceDate"))),
        due_date=_date(_text(fields.get("DueDate"))),
        currency=amount.get("Currency", ""),
        amount_excl_vat=_decimal(_text(amounts.get("AmountExclVat"))),
        vat_amount=_decimal(_text(amounts.get("VatAmount"))),
        total_amount=_decimal(_text(amounts.get("TotalAmount"))),
        payment_ref=_text(fields.get("PaymentRefNo")),
        reference_text=_text(fields.get("InvoiceReferenceText")),
        print_blocks=print_blocks,
        print_block_error=print_block_error,
        attachments=attachments,
        attachment_error=attachment_error,
        payer_customer_no=_text(fields.get("PayerCustomerNo")),
    )


def _credit(element: etree._Element) -> CreditRecord:
    amount = element.find("Amount")
    total = None
    if amount is not None:
        given = _decimal(_text(amount, "TotalAmount"))
        total = (
            given
            if given is not None
            else _decimal(_text(amount, "AmountExclVat")) + _decimal(_text(amount, "VatAmount"))
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
    fields = _children(element)
    info = fields.get("CustomerInfo")
    record = CusinRecord(
        line=element.sourceline,
        customer_no=_text(fields.get("CustomerNo")),
        customer=_customer(info) if info is not None and len(info) else None,
    )
    for item in fields.get("Invoices", ()):
        if item.tag == "CreditInvoice":
            credit = _credit(item)
            record.credits.append(credit)
            record.items.append(credit)
        else:
            invoice = _invoice(item)
            record.invoices.append(invoice)
            record.items.append(invoice)
    return record
