"""Documents: what is queued for a customer, the channel chosen (and why), the archived PDF, every send
attempt, print batches and the returned-mail worklist.

A document's amounts are never stored here: they come from the journal when it is rendered.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import Client, Customer, Invoice, Ledger, User


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    SMS_REMINDER = "sms_reminder", "SMS reminder"
    REMINDER = "reminder", "Reminder"
    COLLECTION_NOTICE = "collection_notice", "Collection notice"
    PAYMENT_DEMAND = "payment_demand", "Payment demand"
    LEGAL_NOTICE = "legal_notice", "Notice before legal action"
    DEBT_SUMMARY = "debt_summary", "Debt summary"
    COST_CLAIM = "cost_claim", "Cost claim"
    PAYOUT_NOTICE = "payout_notice", "Payout / credit notice"
    LATE_FEE_NOTICE = "late_fee_notice", "Late fee (business compensation)"


class Channel(models.TextChoices):
    EINVOICE_B2C = "einvoice_b2c", "eFaktura / e-faktura (B2C)"
    KIVRA = "kivra", "Kivra"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PAPER = "paper", "Paper"
    EINVOICE_B2B = "einvoice_b2b", "EHF / PEPPOL BIS (B2B)"
    ARCHIVE_ONLY = "archive_only", "Archive only (no distribution)"


class PaperRoute(models.TextChoices):
    """Which address a paper document goes to."""

    NONE = "", "Not paper"
    LEGAL_ADDRESS = "legal_address", "Registered (legal) address"
    BILLING_ADDRESS = "billing_address", "Billing address"
    PROTECTED_IDENTITY = "protected_identity", "Protected identity: Skatteverket's postal route"
    NEW_ADDRESS = "new_address", "New address after returned mail"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Being rendered and sent"
    RETRY = "retry", "Failed, will be retried"
    AWAITING_PRINT = "awaiting_print", "Archived, waiting for the print batch"
    SENT = "sent", "Sent"
    ARCHIVED = "archived", "Archived only"
    FAILED = "failed", "Failed"
    RETURNED = "returned", "Returned / bounced"
    CANCELLED = "cancelled", "Not sent: nothing owed any more"


# A document that failed this many send attempts stays failed (an operator looks at it).
MAX_SEND_ATTEMPTS = 3


class Document(models.Model):
    """One document for one customer (and usually one invoice), from queueing to archive and sending."""

    # Keyed in the database by composite (x_id, ledger_id) keys (distribution/sql/documents.sql).
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="documents", db_constraint=False
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        db_constraint=False,
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    booking_date = models.DateField()
    source_key = models.CharField(max_length=200, help_text="unique per ledger: queueing it again is a no-op")
    facts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED)
    # Set when the channel is chosen (at distribution), with the reason and the address used.
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    route = models.CharField(max_length=20, choices=PaperRoute.choices, blank=True)
    channel_reason = models.CharField(max_length=500, blank=True)
    channel_error = models.CharField(max_length=500, blank=True)
    address = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=2, blank=True)
    # The archived PDF: storage name, SHA-256, pages, retention.
    archive_name = models.CharField(max_length=300, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    retention_until = models.DateField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    distributed_on = models.DateField(
        null=True, blank=True,
        help_text="the ledger's day it left the queue (sent, archived for print or archive only): the "
        "settlement charges it in the period holding that day",
    )  # fmt: skip
    print_batch = models.ForeignKey(
        "PrintBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "source_key"], name="document_source_key_unique"),
            models.CheckConstraint(condition=Q(kind__in=DocumentKind.values), name="document_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=DocumentStatus.values), name="document_status_valid"
            ),
            # Whatever left the queue successfully is archived with its checksum and a channel.
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "archived", "awaiting_print", "returned"])
                | (
                    ~Q(archive_name="")
                    & Q(checksum__regex=r"^[0-9a-f]{64}$")
                    & ~Q(channel="")
                    & Q(retention_until__isnull=False)
                ),
                name="document_done_is_archived",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "archived", "awaiting_print", "returned"])
                | Q(distributed_on__isnull=False),
                name="document_done_has_its_day",
            ),
            models.CheckConstraint(
                condition=~Q(status="archived") | Q(channel="archive_only"),
                name="document_archived_only_without_channel",
            ),
            models.CheckConstraint(
                condition=Q(status="processing", claimed_at__isnull=False) | ~Q(status="processing"),
                name="document_processing_is_claimed",
            ),
            models.CheckConstraint(
                condition=~Q(channel="paper") | ~Q(route=""), name="document_paper_has_route"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "booking_date"], name="document_status_date_idx"),
            # The claim walks this in id order and stops after a few rows, however long the queue.
            models.Index(
                fields=["id"],
                condition=Q(status__in=["queued", "retry", "processing"]),
                name="document_pending_idx",
            ),
            models.Index(fields=["invoice"], name="document_invoice_idx"),
        ]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"


class DocumentEvent(models.Model):
    """Every status change and send attempt of a document: who, when, from, to, why."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=DocumentStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=DocumentStatus.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    attempt_no = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One recorded result per send attempt of a document.
            models.UniqueConstraint(
                fields=["document", "attempt_no"],
                condition=Q(attempt_no__isnull=False),
                name="document_event_attempt_once",
            ),
        ]

    def __str__(self):
        return f"{self.from_status} -> {self.to_status}"


class PrintBatch(models.Model):
    """One day's paper documents of a ledger, handed to the print provider as a folder in the outbox:
    the PDFs and a manifest (CSV) of recipients and pages."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    batch_date = models.DateField()
    sequence = models.PositiveSmallIntegerField()
    folder = models.CharField(max_length=300, unique=True, help_text="relative to $LEDGER_DATA_DIR")
    count = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "print batches"
        constraints = [
            models.UniqueConstraint(fields=["ledger", "batch_date", "sequence"], name="print_batch_unique"),
            models.CheckConstraint(condition=Q(count__gt=0), name="print_batch_not_empty"),
        ]
        ordering = ["-batch_date", "-sequence"]

    def __str__(self):
        return self.folder


class ReturnKind(models.TextChoices):
    PAPER_RETURNED = "paper_returned", "Paper distribution returned"
    EMAIL_BOUNCED = "email_bounced", "E-mail bounced"
    EINVOICE_REJECTED = "einvoice_rejected", "E-invoice rejected"


class ReturnStatus(models.TextChoices):
    OPEN = "open", "Open (in the returned-mail worklist)"
    RESENT = "resent", "Re-sent on paper"
    UNREACHABLE = "unreachable", "No address found: the customer cannot be reached by post"


class ReturnedDocument(models.Model):
    """The returned-mail worklist: a document that came back, and what was done about it."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="returns")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ReturnKind.choices)
    status = models.CharField(max_length=12, choices=ReturnStatus.choices, default=ReturnStatus.OPEN)
    booking_date = models.DateField()
    reason = models.CharField(max_length=500)
    resent_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A document comes back once; a re-sent copy that comes back is a return of the copy.
            models.UniqueConstraint(fields=["document"], name="returned_document_once"),
            models.CheckConstraint(
                condition=Q(status="open", resent_document__isnull=True, resolved_on__isnull=True)
                | Q(status="resent", resent_document__isnull=False, resolved_on__isnull=False)
                | Q(status="unreachable", resent_document__isnull=True, resolved_on__isnull=False),
                name="returned_document_resolution",
            ),
        ]
        # the dashboard's returned-mail rate reads a period's returns, not the ledger's history
        indexes = [models.Index(fields=["ledger", "booking_date"], name="returned_ledger_day_idx")]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} of document {self.document_id} ({self.status})"


class ClientDocumentProfile(models.Model):
    """A client's document rules: its logo, how long documents are kept, kinds always sent on paper."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="document_profile")
    logo = models.BinaryField(blank=True, null=True, help_text="PNG or JPEG, at most 8 x 1.7 cm when printed")
    logo_content_type = models.CharField(max_length=30, blank=True)
    retention_years = models.PositiveSmallIntegerField(default=10)
    # Kinds sent on paper to the registered address whatever the customer's channel (beyond the law's).
    paper_kinds = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(retention_years__gte=1), name="profile_retention_positive"),
        ]

    def __str__(self):
        return f"document profile of {self.client}"


class PortalLink(models.Model):
    """One link handed to a customer: a random token of which only the SHA-256 is kept, so the table
    reveals no working link. An invoice link (invoice set) or a customer's debt overview (invoice null)."""

    token_hash = models.CharField(max_length=64, unique=True)
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The document the link was printed in (null for links made otherwise, e.g. the demo's).
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        # The table keeps the name it had in the invoice portal app (the model moved down to the documents
        # that carry its links: distribution/migrations/0005).
        db_table = "invoiceportal_portallink"
        indexes = [models.Index(fields=["invoice"], name="portallink_invoice_idx")]

    def __str__(self):
        return f"portal link {self.pk} ({'invoice' if self.invoice_id else 'customer'})"


class DocumentMonth(models.Model):
    """Documents distributed per month (of their booking date) and channel, for the dashboard's channel
    mix: a month's row count follows the channels, not the documents. Kept by the database
    (distribution/sql/document_months.sql): statement triggers on the documents add a row of the counts
    each INSERT, UPDATE or DELETE changed (an UPDATE that takes a document to `sent` adds +1, one that
    takes it back out -1); the business day merges a ledger's rows into one per key
    (distribution.summaries.document_months_compact); checked by verify_ledger."""

    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by documentmonth_ledger_month_idx
    month = models.DateField(help_text="first day of the month of the documents' booking date")
    channel = models.CharField(max_length=16)
    documents = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["ledger", "month"], name="documentmonth_ledger_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.channel} {self.documents}"


class EfakturaMatch(models.Model):
    """The eFaktura 2.0 receiver a Norwegian customer was matched to in Nets' alias register
    (distribution/efaktura.py), or why none was: looked up when a document is to be sent and the last
    answer is older than EFAKTURA_MATCH_DAYS; one row per customer, replaced by each lookup."""

    class MatchedBy(models.TextChoices):
        NONE = "", "No match"
        NATIONAL_ID = "national_id", "National id"
        PHONE_EMAIL = "phone+email", "Mobile and e-mail"
        PHONE_POSTCODE = "phone+postal_code", "Mobile and postcode"
        EMAIL_POSTCODE = "email+postal_code", "E-mail and postcode"
        ALL_THREE = "phone+email+postal_code", "Mobile, e-mail and postcode"

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="efaktura_match")
    receiver_id = models.CharField(max_length=40, blank=True)
    matched_by = models.CharField(max_length=30, choices=MatchedBy.choices, blank=True)
    accepts_all = models.BooleanField(default=False, help_text="the receiver said yes to all (eFaktura 2.0)")
    reason = models.CharField(max_length=300, blank=True, help_text="why there is no match, or no yes to all")
    checked_on = models.DateField()
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(matched_by="", receiver_id="", accepts_all=False) | (~Q(matched_by="") & ~Q(receiver_id="")),
                name="efaktura_match_has_its_receiver",
            ),
        ]

    def __str__(self):
        return f"eFaktura match of customer {self.customer_id}: {self.receiver_id or 'none'}"

