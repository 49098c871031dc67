"""The demo's way into the invoice portal: links to print (the e-mails in $LEDGER_DATA_DIR/mail/ carry
their own), and the client's contact details for the portal."""

from django.conf import settings

from distribution.links import portal_link_issue, portal_url
from ledger.models import Invoice, InvoiceStatus, Ledger

from .models import PortalSettings


def demo_portal_links(*, company_no: str = "9999") -> dict:
    ledger = Ledger.objects.filter(company_no=company_no).first()
    if ledger is None:
        return {}
    PortalSettings.objects.get_or_create(
        ledger=ledger, defaults={"contact_email": "kundeservice@example.no", "contact_phone": "+4722000000"}
    )
    invoice = (
        Invoice.objects.filter(ledger=ledger)
        .exclude(status=InvoiceStatus.CLOSED)
        .filter(customer__email__gt="")
        .order_by("-due_date", "id")
        .first()
    )
    if invoice is None:
        return {}
    base = settings.INVOICE_PORTAL_BASE_URL.rstrip("/")
    return {
        "invoice": invoice.invoice_no,
        "invoice_link": portal_url(
            portal_link_issue(ledger_id=ledger.pk, customer_id=invoice.customer_id, invoice_id=invoice.pk)
        ),
        "customer_link": portal_url(
            portal_link_issue(ledger_id=ledger.pk, customer_id=invoice.customer_id, invoice_id=None)
        ),
        "direct_debit_sign_up": f"{base}/direct-debit/{ledger.company_no}/?returnUrl=https://example.com/",
        "outbox": str(settings.LEDGER_DATA_DIR / "mail"),
    }
