"""Accounting files written to the outbox, price lists, settlement agreements and settlements.

Every file we hand out is recorded (`AccountingFile`) with the digest of its content: running a day
again finds the same content and writes nothing; different content (a back-dated booking) becomes a
new file with the next sequence number, never a rewrite. A journal transaction is settled to the
client at most once (`SettlementItem.transaction` is unique).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from distribution.models import Channel, DocumentKind
from ledger.models import MONEY, Client, InvoiceEventKind, JournalTransaction, Ledger, User


class AccountingFileKind(models.TextChoices):
    ACCOUNTING_DETAIL_XML = "accounting_detail_xml", "Accounting Detail (XML)"
    ACCOUNTING_DETAIL_CSV = "accounting_detail_csv", "Accounting Detail (CSV)"
    SIE4 = "sie4", "SIE4 (type 4I)"
    BILL_JOURNAL = "bill_journal", "Bill Journal"
    CUSTOMER_JOURNAL = "customer_journal", "Customer Journal"


class AccountingFile(models.Model):
    """One daily file written to a ledger's outbox; `sequence` 2, 3, ... are corrections of the day."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="accounting_files")
    kind = models.CharField(max_length=32, choices=AccountingFileKind.choices)
    as_of = models.DateField(help_text="the booking date the file reports")
    sequence = models.PositiveSmallIntegerField(default=1)
    file_name = models.CharField(max_length=255, unique=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the content")
    size = models.BigIntegerField()
    records = models.PositiveIntegerField(help_text="postings, accounts or events in the file")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "kind", "as_of", "sequence"], name="accounting_file_sequence_unique"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="accounting_file_sequence_positive"),
        ]
        ordering = ["ledger", "as_of", "kind", "sequence"]

    def __str__(self):
        return self.file_name


# --- Price lists: what we charge a client for the service --------------------------------------------


class PriceList(models.Model):
    """A client's prices from `valid_from` on; the list in force on a day is the latest one begun."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="price_lists")
    valid_from = models.DateField()
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "valid_from"], name="price_list_one_per_day"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="price_list_currency_iso"
            ),
        ]
        ordering = ["client", "-valid_from"]

    def __str__(self):
        return f"{self.client} from {self.valid_from}"


class PriceItemKind(models.TextChoices):
    INVOICE_REGISTERED = "invoice_registered", "Per invoice registered"
    PAYMENT = "payment", "Per payment received"
    INVOICE_EVENT = "invoice_event", "Per invoice event (reminder, notice, ...)"
    DOCUMENT = "document", "Per document distributed (by kind and channel)"


class PriceItem(models.Model):
    """One priced service. INVOICE_EVENT items name the event kind they count (e.g. reminder_sent).
    DOCUMENT items name a document kind and a channel, either blank for "any": a distributed document
    is charged once, by the most specific item that matches it (kind and channel, then kind, then
    channel, then any)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=PriceItemKind.choices)
    event_kind = models.CharField(
        max_length=32,
        blank=True,
        help_text=f"for per-event prices: an invoice event kind, e.g. "
        f"{InvoiceEventKind.REGISTERED.value!r} or a claim step such as 'reminder_sent'",
    )
    document_kind = models.CharField(
        max_length=20,
        choices=DocumentKind.choices,
        blank=True,
        help_text="for per-document prices: the document kind (blank: any kind)",
    )
    channel = models.CharField(
        max_length=16,
        choices=Channel.choices,
        blank=True,
        help_text="for per-document prices: the channel it went by (blank: any channel)",
    )
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            # Blank document kind and channel on the other kinds keep this one row per service.
            models.UniqueConstraint(
                fields=["price_list", "kind", "event_kind", "document_kind", "channel"],
                name="price_item_unique",
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="price_item_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=PriceItemKind.values), name="price_item_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind="invoice_event") & ~Q(event_kind=""))
                | (~Q(kind="invoice_event") & Q(event_kind="")),
                name="price_item_event_kind_only_for_events",
            ),
            models.CheckConstraint(
                condition=Q(kind="document") | Q(document_kind="", channel=""),
                name="price_item_document_fields_only_for_documents",
            ),
            models.CheckConstraint(
                condition=Q(document_kind="") | Q(document_kind__in=DocumentKind.values),
                name="price_item_document_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel="") | Q(channel__in=Channel.values),
                name="price_item_channel_valid",
            ),
        ]

    def __str__(self):
        detail = " ".join(filter(None, (self.event_kind, self.document_kind, self.channel)))
        return f"{self.get_kind_display()} {detail} {self.unit_price}".replace("  ", " ")


# --- Settlement: paying the client what was collected -------------------------------------------------


class SettlementFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly (Monday to Sunday)"
    MONTHLY = "monthly", "Monthly"


class SettlementAgreement(models.Model):
    """How and where a ledger's collected money is paid out to the client."""

    ledger = models.OneToOneField(Ledger, on_delete=models.PROTECT, related_name="settlement_agreement")
    frequency = models.CharField(
        max_length=10, choices=SettlementFrequency.choices, default=SettlementFrequency.MONTHLY
    )
    bank_account = models.CharField(max_length=40, help_text="the client's account (IBAN or BBAN)")
    fees_deducted = models.BooleanField(
        default=True, help_text="deduct our service fees from the payout (else invoiced separately)"
    )
    claim_fees_ours = models.BooleanField(
        default=True,
        help_text="'no cure no pay': reminder and collection fees collected from customers are ours",
    )
    interest_to_client = models.BooleanField(
        default=True, help_text="late-payment interest collected is the client's"
    )
    ocr_report = models.BooleanField(
        default=False, help_text="also write the OCR settlement file (Nets OCR Giro) for the client"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(bank_account=""), name="settlement_agreement_has_account"),
        ]

    def __str__(self):
        return f"{self.ledger} {self.frequency}"


class Settlement(models.Model):
    """One settlement of a ledger: the period, the amounts of the Balance Report and the booking."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="settlements")
    period_start = models.DateField()
    period_end = models.DateField()
    booking_date = models.DateField()
    currency = models.CharField(max_length=3)
    collected_capital = models.DecimalField(**MONEY)
    collected_interest = models.DecimalField(**MONEY)
    collected_fees = models.DecimalField(**MONEY)
    retained_fees = models.DecimalField(**MONEY, help_text="claim fees that are ours (no cure no pay)")
    retained_interest = models.DecimalField(**MONEY)
    client_share = models.DecimalField(**MONEY)
    brought_forward = models.DecimalField(**MONEY, help_text="what the client was owed before (credit +)")
    service_fees = models.DecimalField(**MONEY)
    fees_deducted = models.BooleanField()
    payout = models.DecimalField(**MONEY)
    carried_forward = models.DecimalField(**MONEY, help_text="a negative result kept for next time")
    collection_transferred = models.DecimalField(
        **MONEY, default=0, help_text="moved from the collection client-funds account to the client-funds account"
    )
    transaction = models.OneToOneField(
        JournalTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="settlement"
    )
    balance_report_file = models.CharField(max_length=255)
    balance_report_pdf = models.CharField(
        max_length=255, blank=True, help_text="set once the PDF is written (after the commit)"
    )
    payment_file = models.CharField(max_length=255, blank=True, help_text="pain.001 to the client")
    ocr_file = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "period_end"], name="settlement_once_per_period"),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")), name="settlement_period_order"
            ),
            models.CheckConstraint(condition=Q(payout__gte=0), name="settlement_payout_not_negative"),
            models.CheckConstraint(
                condition=Q(
                    client_share=models.F("collected_capital")
                    + models.F("collected_interest")
                    - models.F("retained_interest")
                    + models.F("collected_fees")
                    - models.F("retained_fees")
                ),
                name="settlement_client_share_adds_up",
            ),
            # payout + carried_forward = client share + brought forward - the fees deducted; a negative
            # result is carried forward and nothing is paid.
            models.CheckConstraint(
                condition=(
                    Q(fees_deducted=True)
                    & Q(
                        payout=models.F("client_share")
                        + models.F("brought_forward")
                        - models.F("service_fees")
                        - models.F("carried_forward")
                    )
                )
                | (
                    Q(fees_deducted=False)
                    & Q(
                        payout=models.F("client_share")
                        + models.F("brought_forward")
                        - models.F("carried_forward")
                    )
                ),
                name="settlement_payout_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(carried_forward__lte=0) & (Q(payout=0) | Q(carried_forward=0)),
                name="settlement_carried_forward_only_without_payout",
            ),
            models.CheckConstraint(
                condition=Q(service_fees__gte=0), name="settlement_service_fees_not_negative"
            ),
        ]
        ordering = ["ledger", "-period_end"]

    def __str__(self):
        return f"{self.ledger.company_no} {self.period_start}..{self.period_end} {self.payout}"


class SettlementItem(models.Model):
    """A journal transaction that brought money onto the client's claims, and the settlement that paid
    it out. Unique per transaction: nothing is paid to the client twice."""

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="items")
    transaction = models.OneToOneField(JournalTransaction, on_delete=models.PROTECT, related_name="+")
    booking_date = models.DateField()
    capital = models.DecimalField(**MONEY)
    fees = models.DecimalField(**MONEY)
    interest = models.DecimalField(**MONEY)

    def __str__(self):
        return f"{self.transaction_id} {self.capital}/{self.fees}/{self.interest}"
