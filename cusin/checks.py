"""The record checks of a CUSIN file: each customer and invoice checked before its batch is booked; a bad
one fails alone (a coded error naming its record), the rest is booked."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from ledger import references
from ledger.addresses import address_clean
from ledger.edi_ids import edi_id_clean
from ledger.errors import ValidationFailed
from ledger.models import Customer, Ledger, LegalEntity
from ledger.money import ZERO
from ledger.national_ids import InvalidNationalId, national_id_check
from ledger.services.attachments import attachment_check
from ledger.services.customers import CustomerInput

from . import xmlread
from .records import CusinRecord, InvoiceRecord


def _error(
    code: str, message: str, *, customer_no: str = "", invoice_no: str = "", line: int | None = None
) -> dict:
    return {
        "code": code,
        "customer_no": customer_no,
        "invoice_no": invoice_no,
        "line": line,
        "message": message,
    }


@dataclass
class _BatchResult:
    customers: int = 0
    invoices: int = 0
    failed_customers: int = 0
    failed_invoices: int = 0
    credits: int = 0
    failed_credits: int = 0
    total: Decimal = ZERO
    errors: list = field(default_factory=list)


@dataclass
class _Checked:
    record: CusinRecord
    customer_input: CustomerInput | None = None
    customer_failed: bool = False
    good_invoices: list = field(default_factory=list)


def _customer_input(ledger: Ledger, record: CusinRecord, existing: Customer | None) -> CustomerInput:
    """The customer as it will be after this file: what the file gives, else what we had."""
    info = record.customer

    def given(value, attribute, default=""):
        if value not in ("", None, {}):
            return value
        return getattr(existing, attribute) if existing is not None else default

    name = given(info.name, "name")
    if not name:
        raise _RecordError("MissingMandatoryField", "CustomerInfo/Name is required for a new customer")
    # The number decides the entity when the file leaves LegalEntity out, and must match it when given
    # (the number we have, when the file gives only the entity).
    national_id = info.reg_no or (existing.national_id if existing is not None else "")
    id_country = info.reg_no_country if info.reg_no else (existing.national_id_country if existing else "")
    legal_entity, inferred, checked = info.legal_entity, False, False
    if national_id and (info.reg_no or legal_entity):
        try:
            checked_id = national_id_check(
                national_id, country=id_country or ledger.country, legal_entity=legal_entity
            )
        except InvalidNationalId as exc:
            raise _RecordError("InvalidRegNo", f"RegNo {exc}") from exc
        national_id, legal_entity, inferred, checked = (checked_id.number, checked_id.legal_entity,
                                                        checked_id.inferred, True)  # fmt: skip
    else:
        legal_entity = given(legal_entity, "legal_entity", LegalEntity.PRIVATE)
    address = info.legal_address
    if address:
        street = {
            "address_line1": address["street"],
            "co_address": address["co"],
            "postal_code": address["postal_code"],
            "city": address["city"],
            "country": address["country"] or ledger.country,
        }
    else:
        street = {
            k: given("", k, ledger.country if k == "country" else "")
            for k in ("address_line1", "co_address", "postal_code", "city", "country")
        }
    try:
        checked = address_clean({"country": street["country"], "postal_code": street["postal_code"]},
                                default_country=ledger.country)  # fmt: skip
        billing = info.billing_address
        if billing:
            billing = address_clean(billing, default_country=checked["country"] or ledger.country,
                                    what="billing ")  # fmt: skip
    except ValidationFailed as exc:
        raise _RecordError("InvalidAddress", f"CustomerInfo address: {exc.message}") from exc
    street.update(checked)
    try:
        edi = {
            "van": info.edi["van"],
            "buyer_id": edi_id_clean(info.edi["buyer_id"], country=street["country"] or ledger.country,
                                     field="EDIInfo/BuyerId"),
            "seller_id": edi_id_clean(info.edi["seller_id"], country=ledger.country, field="EDIInfo/SellerId"),
        }  # fmt: skip
    except ValidationFailed as exc:
        raise _RecordError("InvalidEdiId", exc.message) from exc
    return CustomerInput(
        customer_no=record.customer_no,
        name=name,
        legal_entity=legal_entity,
        legal_entity_inferred=inferred,
        national_id_checked=checked,
        national_id=given(national_id, "national_id"),
        national_id_country=given(info.reg_no_country, "national_id_country"),
        email=given(info.email, "email"),
        phone=given(info.phone, "phone"),
        address_line2=existing.address_line2 if existing else "",
        **street,
        billing_address=given(billing, "billing_address", {}),
        protected_identity=given(info.protected_identity, "protected_identity", False),
        distribution_type=given(info.distribution_type, "distribution_type"),
        edi_van=given(edi["van"], "edi_van"),
        edi_buyer_id=given(edi["buyer_id"], "edi_buyer_id"),
        edi_seller_id=given(edi["seller_id"], "edi_seller_id"),
        consents=info.consents,
        guardian_customer_no=info.guardian_customer_no,
    )


class _RecordError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _attachment_problem(invoice: InvoiceRecord) -> str:
    """Why the invoice's attachments cannot be kept (ledger/services/attachments.py), or ""."""
    if invoice.attachment_error:
        return invoice.attachment_error
    if invoice.attachments and not invoice.with_distribution:
        return "attachments go with an invoice we distribute (InvoiceWithDistribution)"
    most = settings.INVOICE_ATTACHMENTS_MAX
    if len(invoice.attachments) > most:
        return f"{len(invoice.attachments)} attachments; at most {most} per invoice"
    for name, content in invoice.attachments:
        try:
            attachment_check(name, content)
        except ValidationFailed as exc:
            return f"{exc.message} ({exc.code})"
    return ""


def _invoice_problem(
    ledger, invoice: InvoiceRecord, index: xmlread.FileIndex, existing_invoices, existing_refs
):
    """(code, message) when the invoice cannot be booked, else None."""
    first_line = index.first_invoice_line.get(invoice.invoice_no)
    if first_line != invoice.line:
        return (
            "DuplicateBillNo",
            f"InvoiceNo {invoice.invoice_no} appears earlier in this file (line {first_line})",
        )
    if invoice.invoice_no in existing_invoices:
        return (
            "DuplicateBillNo",
            f"InvoiceNo {invoice.invoice_no} is already registered in ledger {ledger.company_no}",
        )
    if invoice.print_block_error:
        return "InvalidPrintBlock", invoice.print_block_error
    if problem := _attachment_problem(invoice):
        return "InvalidAttachment", problem
    if invoice.currency != ledger.currency:
        return "CurrencyMismatch", f"currency {invoice.currency} is not the ledger's {ledger.currency}"
    if invoice.total_amount is not None and invoice.total_amount != invoice.amount:
        return (
            "AmountMismatch",
            f"AmountExclVat {invoice.amount_excl_vat} + VatAmount {invoice.vat_amount} = "
            f"{invoice.amount}, but TotalAmount is {invoice.total_amount}",
        )
    if invoice.amount <= 0:
        return "AmountMismatch", f"the invoice amount must be positive, got {invoice.amount}"
    if invoice.due_date and invoice.due_date < invoice.invoice_date:
        return "InvalidDueDate", f"DueDate {invoice.due_date} is before InvoiceDate {invoice.invoice_date}"
    if invoice.payment_ref:
        ref = "".join(invoice.payment_ref.split())
        first_ref_line = index.first_ref_line.get(ref)
        if first_ref_line != invoice.line:
            return (
                "PaymentRefNoInUse",
                f"PaymentRefNo {ref} appears earlier in this file (line {first_ref_line})",
            )
        if ref in existing_refs:
            return "PaymentRefNoInUse", f"PaymentRefNo {ref} is already used in ledger {ledger.company_no}"
        try:
            references.validate(
                ref, scheme=references.ReferenceScheme(ledger.reference_scheme), ledger_id=ledger.ledger_no
            )
        except references.InvalidReference as exc:
            return "InvalidPaymentRefNo", f"PaymentRefNo {ref}: {exc}"
    return None


def _known_before(customer_no: str, line: int, index, existing_customers) -> bool:
    """A customer of the ledger already, or one the file brings before this line."""
    return customer_no in existing_customers or index.first_customer_line.get(customer_no, line) < line


def _check_records(
    ledger, *, records, index, existing_customers, existing_invoices, existing_refs, result: _BatchResult
) -> list[_Checked]:
    checked = []
    for record in records:
        item = _Checked(record=record)
        checked.append(item)
        result.customers += 1
        result.invoices += len(record.invoices)
        result.credits += len(record.credits)
        try:
            first_line = index.first_customer_line.get(record.customer_no)
            if first_line != record.line:
                raise _RecordError(
                    "DuplicateCustomerNo",
                    f"CustomerNo {record.customer_no} appears earlier in this file (line {first_line})",
                )
            existing = existing_customers.get(record.customer_no)
            guardian = record.customer.guardian_customer_no if record.customer is not None else None
            if guardian and not _known_before(guardian, record.line, index, existing_customers):
                raise _RecordError(
                    "UnknownGuardian",
                    f"GuardianCustomerNo {guardian} is no customer of ledger {ledger.company_no} "
                    "nor one earlier in this file",
                )
            if record.customer is not None:
                item.customer_input = _customer_input(ledger, record, existing)
            elif existing is None:
                raise _RecordError(
                    "MissingMandatoryField",
                    f"customer {record.customer_no} is new: CustomerInfo with Name is required",
                )
        except _RecordError as exc:
            item.customer_failed = True
            result.failed_customers += 1
            result.failed_invoices += len(record.invoices)
            result.failed_credits += len(record.credits)
            result.errors.append(
                _error(exc.code, exc.message, customer_no=record.customer_no, line=record.line)
            )
            continue
        for invoice in record.invoices:
            problem = _invoice_problem(ledger, invoice, index, existing_invoices, existing_refs)
            payer = invoice.payer_customer_no
            if not problem and payer and not _known_before(payer, record.line, index, existing_customers):
                problem = (
                    "UnknownPayer",
                    f"PayerCustomerNo {payer} is no customer of ledger {ledger.company_no} nor one earlier in this file",
                )
            if not problem and payer == record.customer_no:
                problem = ("UnknownPayer", f"PayerCustomerNo {payer} is the invoice's own customer")
            if problem:
                result.failed_invoices += 1
                result.errors.append(
                    _error(
                        problem[0],
                        problem[1],
                        customer_no=record.customer_no,
                        invoice_no=invoice.invoice_no,
                        line=invoice.line,
                    )
                )
            else:
                item.good_invoices.append(invoice)
    return checked
