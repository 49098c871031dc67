"""The senders: e-mail (Django's backends), SMS (a small gateway interface), e-invoice records (eFaktura
B2C, Kivra) and EHF / PEPPOL BIS invoices written to the distribution outbox. Paper goes by print batch
(services.print_batches_write).

Each sender does I/O only: no database writes. A failure raises SendFailed; `permanent` ones are not
retried.
"""

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from ledger.errors import LedgerError
from ledger.models import LegalEntity
from ledger.money import format_money
from ledger.outbox import write_atomic

from . import texts
from .models import Channel, Document
from .templatetags.documents import day, money


class SendFailed(LedgerError):
    code = "send_failed"

    def __init__(self, message: str, *, code: str | None = None, permanent: bool = False):
        super().__init__(message, code=code)
        self.permanent = permanent


def distribution_outbox(*parts: str) -> Path:
    """Where we hand documents to networks and the print provider: $LEDGER_DATA_DIR/distribution/..."""
    path = Path(settings.LEDGER_DATA_DIR, "distribution", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def relative_to_data_dir(path: Path) -> str:
    return str(Path(path).relative_to(settings.LEDGER_DATA_DIR))


@dataclass(frozen=True)
class Message:
    """What the document says in an e-mail or SMS, in the customer's language."""

    subject: str
    body: str
    sms: str


def message_for(document: Document, context: dict, *, attach: bool) -> Message:
    language = context["language"]
    labels = texts.LABELS[language]
    invoice = document.invoice
    due = context["due"]
    fields = {
        "title": context["title"],
        "invoice_no": invoice.invoice_no if invoice is not None else document.customer.customer_no,
        "company": context["company"],
        "name": document.customer.name,
        "intro": context["intro"] or context["title"],
        "total_label": labels["total_due"],
        "total": money(context["total_due"], language),
        "currency": context["currency"],
        "due_label": labels["deadline"],
        "due": day(due, language) if due else "-",
        "reference_label": labels["reference"],
        "reference": context["reference"] or "-",
        "portal_label": labels["portal"],
        "link": context["portal_link"],
        "attachment": texts.EMAIL_ATTACHMENT_NOTE[language] if attach else "",
    }
    if document.kind in texts.NOTICE_KINDS:
        # It asks for nothing: it says what was paid out and where, not "to pay 0,00 by -".
        facts = [f"{labels['payout_amount']}: {money(context['payout_amount'], language)} {context['currency']}"]
        if context.get("payout_account"):
            facts.append(f"{labels['payout_account']}: {context['payout_account']}")
        fields |= {"facts": "\n".join(facts), "portal_label": labels["portal_document"]}
        return Message(
            subject=texts.EMAIL_SUBJECT[language].format(**fields),
            body=texts.NOTICE_BODY[language].format(**fields),
            sms=texts.NOTICE_SMS[language].format(**{**fields, "facts": ". ".join(facts) + "."}),
        )
    return Message(
        subject=texts.EMAIL_SUBJECT[language].format(**fields),
        body=texts.EMAIL_BODY[language].format(**fields),
        sms=texts.SMS_TEXT[language].format(**fields),
    )


def safe_name(text: str) -> str:
    """A file-name part: letters, digits, dot, dash and underscore; anything else becomes '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "_"


def pdf_file_name(document: Document) -> str:
    number = document.invoice.invoice_no if document.invoice is not None else document.customer.customer_no
    return f"{document.kind}-{safe_name(number)}-{document.pk}.pdf"


def email_send(document: Document, *, context: dict, pdf: bytes, attempt_no: int) -> dict:
    """E-mail with the portal link always; the PDF attached for business customers."""
    to = (document.address or {}).get("email") or document.customer.email
    if not to:
        raise SendFailed("no e-mail address", code="no_email_address", permanent=True)
    attach = document.customer.legal_entity == LegalEntity.BUSINESS
    message = message_for(document, context, attach=attach)
    # One Message-ID per document, the same in every attempt: a retry after a server that took the
    # message but answered too late is a repeat a mail server (and the reader's client) can drop.
    message_id = f"<document-{document.pk}@{settings.DEFAULT_FROM_EMAIL.split('@')[-1]}>"
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id, "X-Ledger-Document": str(document.pk)},
    )
    if attach:
        email.attach(pdf_file_name(document), pdf, "application/pdf")
    try:
        email.send(fail_silently=False)
    except OSError as exc:  # SMTP errors are OSErrors
        raise SendFailed(f"e-mail to {to} failed: {exc}", code="email_failed") from exc
    return {"to": to, "message_id": message_id, "attached_pdf": attach}


# --- SMS -----------------------------------------------------------------------------------------


class SmsGateway:
    """Sends one text message; returns the gateway's message id. Raises SendFailed."""

    def send(self, *, to: str, text: str, reference: str) -> str:
        raise NotImplementedError


class FileSmsGateway(SmsGateway):
    """Development and demo: each message a JSON file under $LEDGER_DATA_DIR/sms/."""

    def send(self, *, to: str, text: str, reference: str) -> str:
        folder = Path(settings.LEDGER_DATA_DIR) / "sms"
        payload = {"to": to, "from": settings.SMS_SENDER, "text": text, "reference": reference}
        write_atomic(folder / f"{reference}.json", json.dumps(payload, ensure_ascii=False, indent=2).encode())
        return reference


class HttpSmsGateway(SmsGateway):
    """A JSON-over-HTTP gateway: POST {to, from, text, reference} with a bearer token; the answer's
    `id` is the message id. 4xx is a permanent failure (bad number), 5xx and network errors are retried."""

    def __init__(self, url: str, token: str = "", timeout: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, to: str, text: str, reference: str) -> str:
        body = json.dumps({"to": to, "from": settings.SMS_SENDER, "text": text, "reference": reference})
        request = urllib.request.Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": reference}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise SendFailed(
                f"SMS gateway answered {exc.code}: {exc.read()[:200].decode(errors='replace')}",
                code="sms_rejected" if exc.code < 500 else "sms_gateway_error",
                permanent=exc.code < 500,
            ) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SendFailed(f"SMS gateway unreachable: {exc}", code="sms_gateway_error") from exc
        return str(answer.get("id") or reference)


def sms_gateway() -> SmsGateway:
    """The gateway the settings name: SMS_GATEWAY (a dotted class path), else HTTP when SMS_HTTP_URL is
    set, else files."""
    dotted = getattr(settings, "SMS_GATEWAY", "")
    if dotted:
        return import_string(dotted)()
    if settings.SMS_HTTP_URL:
        return HttpSmsGateway(
            settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN, settings.SMS_HTTP_TIMEOUT_SECONDS
        )
    return FileSmsGateway()


def sms_send(document: Document, *, context: dict, attempt_no: int) -> dict:
    to = (document.address or {}).get("phone") or document.customer.phone
    if not to:
        raise SendFailed("no mobile number", code="no_phone", permanent=True)
    text = message_for(document, context, attach=False).sms
    # The idempotency key of the message, the same in every attempt: a gateway that took the message
    # but answered after our timeout sends nothing again for the retry (docs/reliability.md).
    reference = f"document-{document.pk}"
    message_id = sms_gateway().send(to=to, text=text, reference=reference)
    return {"to": to, "message_id": message_id, "text": text}


# --- E-invoice networks --------------------------------------------------------------------------


def einvoice_record_write(document: Document, *, context: dict, pdf: bytes, checksum: str) -> dict:
    """eFaktura B2C / Kivra: the record for the network (JSON) and the PDF, in the outbox."""
    ledger = document.ledger
    network = "kivra" if document.channel == Channel.KIVRA else f"efaktura_{ledger.country.lower()}"
    folder = distribution_outbox(network, ledger.company_no, document.booking_date.isoformat())
    pdf_path = write_atomic(folder / pdf_file_name(document), pdf)
    due = context["due"]
    record = {
        "network": network,
        "document_id": document.pk,
        "kind": document.kind,
        "company_no": ledger.company_no,
        "issuer": context["company"],
        "customer_no": document.customer.customer_no,
        "national_id": document.customer.national_id,
        "receiver_id": (document.address or {}).get("receiver_id", ""),  # eFaktura 2.0 (alias register)
        "invoice_no": document.invoice.invoice_no if document.invoice is not None else "",
        "amount_due": format_money(context["total_due"]),
        "currency": context["currency"],
        "due_date": due.isoformat() if due else None,
        "payment_ref": context["reference"],
        "account": context["account"],
        "pdf": pdf_path.name,
        "pdf_sha256": checksum,
    }
    record_path = write_atomic(
        folder / f"{Path(pdf_path.name).stem}.json", json.dumps(record, ensure_ascii=False, indent=2).encode()
    )
    return {"network": network, "record": relative_to_data_dir(record_path)}


def ehf_write(document: Document, *, pdf: bytes) -> dict:
    """EHF / PEPPOL BIS Billing 3.0 UBL invoice for the customer's access point (VAN), in the outbox."""
    from .peppol import peppol_invoice_xml

    ledger = document.ledger
    xml = peppol_invoice_xml(document, pdf=pdf, pdf_name=pdf_file_name(document))
    van = safe_name(document.customer.edi_van)
    folder = distribution_outbox("ehf", ledger.company_no, van, document.booking_date.isoformat())
    path = write_atomic(folder / f"{safe_name(document.invoice.invoice_no)}-{document.pk}.xml", xml)
    return {"van": document.customer.edi_van, "file": relative_to_data_dir(path)}
