"""Document rendering: the facts of a document (journal balances as of rendering, the caller's facts,
the ledger's texts) into HTML from templates/documents/, then into PDF with WeasyPrint.

No writes (rendering runs outside any database transaction), except the portal link when the caller
gives none: portal_link() records the link it makes.
"""

import base64
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string

from ledger.models import Invoice, InvoiceStatus
from ledger.money import ZERO, to_money
from ledger.selectors import invoice_balance, invoices_with_balances

from . import texts
from .links import portal_link_issue, portal_url
from .models import Document, DocumentKind

# The letters of the collection stage (inkasso): paid to the collection client-funds account.
COLLECTION_KINDS = (DocumentKind.PAYMENT_DEMAND, DocumentKind.LEGAL_NOTICE)

def portal_token(document: Document) -> str:
    """A new invoice-portal link for the document's invoice (a debt summary's: the customer's overview).

    A write (one PortalLink row; only the token's hash is kept): call it once per sending and put the
    same link in the PDF and the message. The portal refuses it once expired, revoked or the invoice closed.
    """
    return portal_link_issue(
        ledger_id=document.ledger_id,
        customer_id=document.customer_id,
        invoice_id=document.invoice_id,
        document_id=document.pk,
    )


def portal_link(document: Document) -> str:
    return portal_url(portal_token(document))


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    html: str
    context: dict


def _fact_money(facts: dict, key: str) -> Decimal | None:
    value = facts.get(key)
    return None if value in (None, "") else to_money(str(value))


def _fact_date(facts: dict, key: str) -> date | None:
    value = facts.get(key)
    return date.fromisoformat(value) if value else None


def _logo_data_uri(client) -> str:
    profile = getattr(client, "document_profile", None)
    if profile is None or not profile.logo:
        return ""
    content_type = profile.logo_content_type or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(bytes(profile.logo)).decode()}"


def _open_invoices(document: Document) -> list[dict]:
    rows = invoices_with_balances(
        Invoice.objects.filter(ledger_id=document.ledger_id, customer_id=document.customer_id).exclude(
            status=InvoiceStatus.CLOSED
        )
    ).order_by("due_date", "id")
    return [
        {
            "invoice_no": i.invoice_no,
            "due_date": i.due_date,
            "payment_ref": i.payment_ref,
            "capital": i.capital,
            "costs": i.fees + i.interest,
            "open_amount": i.open_amount,
        }
        for i in rows
        if i.open_amount > 0
    ]


def document_context(document: Document, *, link: str | None = None) -> dict:
    """Everything a template needs, amounts as Decimals from the journal as of now."""
    ledger = document.ledger
    customer = document.customer
    invoice = document.invoice
    facts = document.facts or {}
    language = document.language or texts.language_for(customer.country)
    balance = invoice_balance(invoice) if invoice is not None else None
    capital = balance.capital if balance else ZERO
    fees = balance.fees if balance else ZERO
    interest = balance.interest if balance else ZERO
    open_invoices = _open_invoices(document) if document.kind == DocumentKind.DEBT_SUMMARY else []
    if document.kind == DocumentKind.DEBT_SUMMARY:
        total_due = sum((row["open_amount"] for row in open_invoices), ZERO)
    elif document.kind == DocumentKind.COST_CLAIM:
        total_due = fees + interest
    elif document.kind == DocumentKind.PAYOUT_NOTICE:
        total_due = ZERO
    else:
        total_due = capital + fees + interest
    deadline = _fact_date(facts, "deadline")
    due = deadline or (invoice.due_date if invoice is not None else None)
    return {
        "document": document,
        "kind": document.kind,
        "language": language,
        "title": texts.TITLES[language][document.kind],
        "t": texts.LABELS[language],
        "intro": texts.LABELS[language].get(f"intro_{document.kind}", ""),
        "ledger": ledger,
        "company": ledger.client.name,
        "logo": _logo_data_uri(ledger.client),
        "customer": customer,
        "address": document.address or {},
        "invoice": invoice,
        "print_blocks": (invoice.print_blocks or []) if invoice is not None else [],
        "capital": capital,
        "fees": fees,
        "interest": interest,
        "costs": fees + interest,
        "total_due": total_due,
        "currency": invoice.currency if invoice is not None else ledger.currency,
        "due": due,
        "step_fee": _fact_money(facts, "fee"),
        "interest_rate": facts.get("interest_rate") or "",
        "interest_from": _fact_date(facts, "interest_from"),
        "payout_amount": _fact_money(facts, "amount"),
        "payout_account": facts.get("account", ""),
        # Claims in collection are paid to the collection client-funds account when the ledger has one.
        "account": (ledger.collection_funds_account if document.kind in COLLECTION_KINDS else "")
        or ledger.client_funds_account,
        "reference": invoice.payment_ref if invoice is not None else "",
        "open_invoices": open_invoices,
        "portal_link": link if link is not None else portal_link(document),
        "administration_text": texts.administration_text(ledger.country, ledger.client.name),
        "booking_date": document.booking_date,
    }


_thread_state = threading.local()


def _font_config():
    """One WeasyPrint font configuration per thread: loading the fonts for every document would cost a
    good part of the rendering time. (Our templates declare no @font-face, so nothing accumulates.)"""
    from weasyprint.text.fonts import FontConfiguration

    if getattr(_thread_state, "font_config", None) is None:
        _thread_state.font_config = FontConfiguration()
    return _thread_state.font_config


def document_render(document: Document, *, link: str | None = None) -> Rendered:
    """HTML from templates/documents/<kind>.html, then PDF. Fonts: the system's (DejaVu)."""
    from weasyprint import HTML  # imported here: loading pango takes a moment and most code never renders

    context = document_context(document, link=link)
    html = render_to_string(f"documents/{document.kind}.html", context)
    rendered = HTML(string=html, base_url=str(settings.BASE_DIR)).render(font_config=_font_config())
    return Rendered(pdf=rendered.write_pdf(), pages=len(rendered.pages), html=html, context=context)
