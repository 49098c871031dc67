"""Write CUSIN files: used by the demo, the tests and the benchmark (streaming, so any size fits).

The same shapes as a client's invoicing system would send; see xsd/cusin-2.0.xsd.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from lxml import etree


@dataclass
class InvoiceSpec:
    invoice_no: str
    invoice_date: date
    amount_excl_vat: Decimal
    vat_amount: Decimal
    currency: str
    due_date: date | None = None
    payment_ref: str | None = None
    reference_text: str | None = None
    total_amount: Decimal | None = None
    with_distribution: bool = True
    # (article, description, quantity, unit price, amount) rows of an A7 order block
    order_rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # (file name, PDF) attachments: CUSIN 2.1
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    payer_customer_no: str | None = None  # CUSIN 2.1: another payer


@dataclass
class CreditSpec:
    credited_invoice_no: str
    amount_excl_vat: Decimal | None = None
    vat_amount: Decimal | None = None
    currency: str | None = None
    credit_note_no: str | None = None
    cause: str | None = None
    reason: str | None = None


@dataclass
class CustomerSpec:
    customer_no: str
    name: str | None = None
    legal_entity: str | None = None  # "Private" / "Business"
    reg_no: str | None = None
    reg_no_country: str = "NO"
    street: str | None = None
    zip_code: str = ""
    city: str = ""
    country: str = "NO"
    email: str | None = None
    phone: str | None = None
    payment_rules: dict[str, bool] = field(default_factory=dict)  # e.g. {"UseBKAGNO": True}
    distribution_type: str | None = None
    distribution_rules: dict[str, bool] = field(default_factory=dict)
    items: list[InvoiceSpec | CreditSpec] = field(default_factory=list)
    with_customer_info: bool = True
    guardian_customer_no: str | None = None  # CUSIN 2.1: a minor's guardian


def _leaf(xf, tag: str, text, **attrs) -> None:
    with xf.element(tag, **attrs):
        xf.write(str(text))
    xf.write("\n")  # one element a line, so that error logs can point at lines


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _customer_info(xf, c: CustomerSpec) -> None:
    with xf.element("CustomerInfo"):
        if c.name is not None:
            _leaf(xf, "Name", c.name)
        if c.legal_entity:
            _leaf(xf, "LegalEntity", c.legal_entity)
        if c.reg_no:
            _leaf(xf, "RegNo", c.reg_no, CountryCode=c.reg_no_country)
        if c.street or c.email or c.phone:
            with xf.element("DistributionAddressInfo"):
                if c.street:
                    with xf.element("Addresses"), xf.element("Address", AddressType="LegalAddress"):
                        _leaf(xf, "Addressee", c.name or "")
                        _leaf(xf, "StreetAddress", c.street)
                        _leaf(xf, "ZipCode", c.zip_code)
                        _leaf(xf, "City", c.city)
                        _leaf(xf, "CountryCode", c.country)
                if c.email:
                    _leaf(xf, "E-MailAddress", c.email)
                if c.phone:
                    _leaf(xf, "PhoneNumber", c.phone)
        if c.payment_rules:
            with xf.element("PaymentInfo"), xf.element("Set"), xf.element("PaymentRules"):
                for rule, active in c.payment_rules.items():
                    with xf.element("PaymentRule", Rule=rule):
                        _leaf(xf, "Value", "1" if active else "0")
        if c.distribution_type or c.distribution_rules:
            with xf.element("DistributionInfo"), xf.element("Set"), xf.element("BillTypes"):
                with xf.element("BillType", DistributionBillType="I_Invoice"):
                    if c.distribution_type:
                        _leaf(xf, "DistributionType", c.distribution_type)
                    if c.distribution_rules:
                        with xf.element("DistributionRules"):
                            for rule, active in c.distribution_rules.items():
                                with xf.element("DistributionRule", Rule=rule):
                                    _leaf(xf, "Value", "1" if active else "0")
        if c.guardian_customer_no:
            _leaf(xf, "GuardianCustomerNo", c.guardian_customer_no)


def _columns(xf, values: Iterable[str]) -> None:
    with xf.element("Columns"):
        for number, text in enumerate(values, start=1):
            with xf.element("Column", ColumnNo=str(number)):
                _leaf(xf, "Text", text)


def _invoice(xf, i: InvoiceSpec) -> None:
    with xf.element("InvoiceWithDistribution" if i.with_distribution else "InvoiceWithoutDistribution"):
        _leaf(xf, "InvoiceNo", i.invoice_no)
        _leaf(xf, "InvoiceDate", i.invoice_date.isoformat())
        if i.due_date:
            _leaf(xf, "DueDate", i.due_date.isoformat())
        with xf.element("Amount", Currency=i.currency):
            _leaf(xf, "AmountExclVat", _money(i.amount_excl_vat))
            _leaf(xf, "VatAmount", _money(i.vat_amount))
            if i.total_amount is not None:
                _leaf(xf, "TotalAmount", _money(i.total_amount))
        if i.payment_ref:
            _leaf(xf, "PaymentRefNo", i.payment_ref)
        if i.reference_text:
            _leaf(xf, "InvoiceReferenceText", i.reference_text)
        if i.payer_customer_no:
            _leaf(xf, "PayerCustomerNo", i.payer_customer_no)
        if i.order_rows:
            with (
                xf.element("DistributionInfo"),
                xf.element("InvoicePrintInfo"),
                xf.element("InvoicePrintBlocks"),
            ):
                with (
                    xf.element("StandardPrintBlock"),
                    xf.element("BasePrintBlock"),
                    xf.element("SubOrderBlocks"),
                ):
                    with xf.element("SubOrderBlock", TableType="A7"):
                        with xf.element("ColumnHeadLine"):
                            _columns(xf, ["Article", "Description", "Quantity", "Unit price", "Amount"])
                        with xf.element("Rows"):
                            for row in i.order_rows:
                                with xf.element("Row"):
                                    _columns(xf, row)
                    with xf.element("SubOrderBlock", TableType="A3"), xf.element("Rows"):
                        for label, value in (("Amount excl. VAT", i.amount_excl_vat), ("VAT", i.vat_amount)):
                            with xf.element("Row"), xf.element("Columns"):
                                with xf.element("Column", ColumnNo="2"):
                                    _leaf(xf, "Text", label)
                                with xf.element("Column", ColumnNo="3"):
                                    _leaf(xf, "Text", _money(value).replace(".", ","))
        if i.attachments:
            with xf.element("Attachments"):
                for file_name, content in i.attachments:
                    with xf.element("Attachment", FileName=file_name):
                        xf.write(base64.b64encode(content).decode("ascii"))


def _credit(xf, c: CreditSpec) -> None:
    with xf.element("CreditInvoice"):
        if c.credit_note_no:
            _leaf(xf, "InvoiceNo", c.credit_note_no)
        _leaf(xf, "CreditedInvoiceNo", c.credited_invoice_no)
        if c.amount_excl_vat is not None:
            with xf.element("Amount", Currency=c.currency or "NOK"):
                _leaf(xf, "AmountExclVat", _money(c.amount_excl_vat))
                _leaf(xf, "VatAmount", _money(c.vat_amount or Decimal(0)))
        if c.cause:
            _leaf(xf, "Cause", c.cause)
        if c.reason:
            _leaf(xf, "Reason", c.reason)


def write_cusin(
    target: Path,
    *,
    company_no: str,
    customers: Iterable[CustomerSpec],
    company_name: str = "Test Company",
    version: str = "2.0",
    created: str = "2026-01-15T08:30:00",
    distribution_date: date | None = None,
) -> Path:
    """Stream a CUSIN file to `target`; customers may be a generator of any length."""
    target = Path(target)
    with etree.xmlfile(str(target), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(
            "CUSIN", Version=version, CreatedDateTime=created, CompanyName=company_name, CompanyNo=company_no
        ):
            with xf.element("DistributionDate"):
                if distribution_date:
                    _leaf(xf, "Date", distribution_date.isoformat())
                else:
                    with xf.element("AsSoonAsPossible"):
                        pass
            for c in customers:
                with xf.element("CUSINInfo"):
                    _leaf(xf, "CustomerNo", c.customer_no)
                    if c.with_customer_info:
                        _customer_info(xf, c)
                    if c.items:
                        with xf.element("Invoices"):
                            for item in c.items:
                                (_invoice if isinstance(item, InvoiceSpec) else _credit)(xf, item)
                xf.flush()
    return target
