"""The links to the invoice portal that documents carry: a random token per link, of which only the
SHA-256 is kept (PortalLink), valid for INVOICE_PORTAL_LINK_MAX_AGE_DAYS days, revocable. The portal
(invoiceportal/) resolves them; the documents (render.py) issue them."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.errors import ValidationFailed
from ledger.models import Customer, Invoice

from .models import PortalLink


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_link_issue(
    *, ledger_id: int, customer_id: int, invoice_id: int | None, document_id: int | None = None
) -> str:
    """A new link; returns the token (shown once: only its hash is stored). Valid for
    INVOICE_PORTAL_LINK_MAX_AGE_DAYS days."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    PortalLink.objects.create(
        token_hash=token_hash(token),
        ledger_id=ledger_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        document_id=document_id,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVOICE_PORTAL_LINK_MAX_AGE_DAYS),
    )
    return token


def portal_url(token: str) -> str:
    return f"{settings.INVOICE_PORTAL_BASE_URL.rstrip('/')}/{token}/"


def portal_links_revoke(
    *, invoice: Invoice | None = None, customer: Customer | None = None, reason: str
) -> int:
    """Revoke every live link of an invoice or of a customer (e.g. one sent to a wrong address)."""
    if (invoice is None) == (customer is None):
        raise ValidationFailed("revoke the links of an invoice or of a customer", field="invoice")
    if not reason:
        raise ValidationFailed("revoking links needs a reason", field="reason")
    with transaction.atomic():
        qs = PortalLink.objects.filter(revoked_at__isnull=True)
        qs = qs.filter(invoice=invoice) if invoice is not None else qs.filter(customer=customer)
        return qs.update(revoked_at=timezone.now(), revoked_reason=reason[:200])
