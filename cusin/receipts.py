"""The receipt and error log we answer a CUSIN file with (schemas: xsd/cusin-receipt-1.0.xsd and
xsd/cusin-errorlog-1.0.xsd), written to the ledger's outbox."""

from pathlib import Path

from lxml import etree
from lxml.builder import E

from ledger.outbox import company_dir, write_atomic

STATUS = {"accepted": "Accepted", "partially_accepted": "PartiallyAccepted", "rejected": "Rejected"}


def receipt_xml(receipt: dict) -> bytes:
    total = E.TotalInvoiceAmount(receipt["total_invoice_amount"])
    if receipt.get("currency"):
        total.set("Currency", receipt["currency"])
    children = [
        E.FileName(receipt["file"]),
        E.CompanyNo(receipt["company_no"] or "0"),
        E.Status(STATUS[receipt["status"]]),
        E.PassedXSDValidation("true" if receipt["passed_xsd_validation"] else "false"),
    ]
    if receipt.get("distribution_date"):
        children.append(E.PreDistributionDate(receipt["distribution_date"]))
    children += [
        E.NoOfCustomers(str(receipt["customers"])),
        E.NoOfInvoices(str(receipt["invoices"])),
        E.NoOfFailedCustomers(str(receipt["failed_customers"])),
        E.NoOfFailedInvoices(str(receipt["failed_invoices"])),
        E.NoOfCreditInstructions(str(receipt["credits"])),
        E.NoOfFailedCreditInstructions(str(receipt["failed_credits"])),
        total,
        E.ProcessedDateTime(receipt["processed_at"]),
    ]
    return etree.tostring(
        E.CUSINReceipt(*children), xml_declaration=True, encoding="utf-8", pretty_print=True
    )


def errorlog_xml(receipt: dict) -> bytes:
    errors = []
    for error in receipt["errors"]:
        children = [E.Code(error["code"])]
        if error.get("customer_no"):
            children.append(E.CustomerNo(error["customer_no"]))
        if error.get("invoice_no"):
            children.append(E.InvoiceNo(error["invoice_no"]))
        if error.get("line"):
            children.append(E.Line(str(error["line"])))
        children.append(E.Message(error["message"]))
        errors.append(E.Error(*children))
    root = E.CUSINErrorLog(E.FileName(receipt["file"]), E.CompanyNo(receipt["company_no"] or "0"), *errors)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def outbox_names(file_name: str) -> tuple[str, str]:
    stem = Path(file_name).stem
    return f"{stem}_receipt.xml", f"{stem}_errorlog.xml"


def write_to_outbox(receipt: dict, company_no: str) -> list[Path]:
    """The receipt always; the error log when something went wrong."""
    outbox = company_dir(company_no, "outbox")
    receipt_name, errorlog_name = outbox_names(receipt["file"])
    written = [write_atomic(outbox / receipt_name, receipt_xml(receipt))]
    if receipt["errors"]:
        written.append(write_atomic(outbox / errorlog_name, errorlog_xml(receipt)))
    return written
