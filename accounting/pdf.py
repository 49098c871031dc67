"""The Balance Report as PDF, rendered with WeasyPrint from the Balance Report XML (so the PDF can only
show what the XML states)."""

from pathlib import Path

from django.template.loader import render_to_string
from lxml import etree

from .xmlfiles import hardened_parser


def _report_context(root: etree._Element) -> dict:
    def text(path: str) -> str:
        return root.findtext(path) or ""

    summary = {child.tag: child.text for child in root.find("PaymentSummary")}
    return {
        "company_no": text("CompanyNo"),
        "ledger_name": text("LedgerName"),
        "client_name": text("ClientName"),
        "period_start": text("PeriodStart"),
        "period_end": text("PeriodEnd"),
        "settlement_date": text("SettlementDate"),
        "currency": text("Currency"),
        "summary": summary,
        "records": [{c.tag: c.text for c in r} for r in root.iterfind("ClientAssetDisbursement/Record")],
        "sales": [{c.tag: c.text for c in r} for r in root.iterfind("SalesSpecification/Invoice")],
        "fees": [{c.tag: c.text for c in r} for r in root.iterfind("FeeSpecification/Fee")],
        "fees_total": text("FeeSpecification/Total"),
        "fees_deducted": root.find("FeeSpecification").get("Deducted") == "true",
    }


def balance_report_pdf(xml_path: Path) -> bytes:
    from weasyprint import HTML  # imported here: loading it is slow and only this needs it

    root = etree.parse(str(xml_path), hardened_parser()).getroot()
    html = render_to_string("accounting/balance_report.html", _report_context(root))
    return HTML(string=html).write_pdf()
