"""Clients, ledgers, customers, invoices and the double-entry journal.

Balances are never stored: an invoice's capital, fees and interest are sums of its postings.
The database enforces the journal (see ledger/sql/journal.sql): postings are non-zero, each
transaction sums to zero per currency, and nothing in the journal is updated or deleted. Every
reference between the ledger's tables stays inside one ledger, checked once per statement
(ledger/sql/tenancy_checks.sql); ledgers, customers, invoices, payments and accounts are never deleted.

Why one module past 500 lines: it is the ledger app's schema, read together with its migrations and
its SQL; each model is short, and splitting the app's models over a package would scatter the
foreign keys that the tenancy checks follow.
"""

import zoneinfo
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .references import ReferenceScheme

MONEY = {"max_digits": 18, "decimal_places": 2}


class Country(models.TextChoices):
    NORWAY = "NO", "Norway"
    SWEDEN = "SE", "Sweden"
    DENMARK = "DK", "Denmark"
    FINLAND = "FI", "Finland"


# Currency, time zone and payment-reference scheme a new ledger gets unless told otherwise.
COUNTRY_DEFAULTS = {
    Country.NORWAY: ("NOK", "Europe/Oslo", ReferenceScheme.KID_MOD10),
    Country.SWEDEN: ("SEK", "Europe/Stockholm", ReferenceScheme.OCR_14),
    Country.DENMARK: ("DKK", "Europe/Copenhagen", ReferenceScheme.OCR_14),
    Country.FINLAND: ("EUR", "Europe/Helsinki", ReferenceScheme.OCR_14),
}


class Client(models.Model):
    """The creditor: owns ledgers and has users."""

    name = models.CharField(max_length=200, unique=True)
    org_no = models.CharField(
        max_length=40, blank=True, help_text="organisation number (checked by its digits)"
    )
    # Registered for VAT (Norway: Merverdiavgiftsregisteret): the e-invoices we send for the client then
    # carry its VAT identifier (EN 16931 BT-31), e.g. NO923609016MVA.
    vat_registered = models.BooleanField(default=False)
    # 360 sign-in: the one-time code is asked again when the last one on a device is older than this.
    second_factor_hours = models.PositiveSmallIntegerField(default=12)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(second_factor_hours__gte=1, second_factor_hours__lte=720),
                name="client_second_factor_hours_range",
            )
        ]

    def __str__(self):
        return self.name


class UserRole(models.TextChoices):
    READ_ONLY = "read_only", "Read only"
    OPERATOR = "operator", "Operator"
    CLIENT_ADMIN = "client_admin", "Client administrator"


class SecondFactorChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"


class User(AbstractUser):
    """An operator. A user with a client sees only that client's data; one without is our own staff."""

    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    # What the user may do in 360 within their client; our own staff (no client) may do everything.
    role = models.CharField(max_length=12, choices=UserRole.choices, default=UserRole.OPERATOR)
    # Where the sign-in code goes: SMS to `phone`, or e-mail to `email`.
    phone = models.CharField(max_length=30, blank=True)
    second_factor_channel = models.CharField(
        max_length=5, choices=SecondFactorChannel.choices, default=SecondFactorChannel.EMAIL
    )

    @property
    def is_our_staff(self) -> bool:
        return self.client_id is None and self.is_staff

    @property
    def may_act(self) -> bool:
        """Operators and client administrators change data; read-only users only look."""
        return self.is_our_staff or (self.client_id is not None and self.role != UserRole.READ_ONLY)


class AllocationOrder(models.TextChoices):
    CAPITAL_FIRST = "capital_first", "Capital, then fees, then interest"
    COSTS_FIRST = "costs_first", "Fees, then interest, then capital"


class Ledger(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ledgers")
    company_no = models.CharField(max_length=20, unique=True, help_text="CUSIN CompanyNo")
    ledger_no = models.CharField(max_length=9, unique=True, help_text="Ledger id used in payment references")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, choices=Country.choices)
    currency = models.CharField(max_length=3)
    time_zone = models.CharField(max_length=64)
    reference_scheme = models.CharField(max_length=16, choices=[(s.value, s.name) for s in ReferenceScheme])
    payment_terms_days = models.PositiveSmallIntegerField(default=14)
    allocation_order = models.CharField(
        max_length=16, choices=AllocationOrder.choices, default=AllocationOrder.CAPITAL_FIRST
    )
    settle_surplus_against_oldest = models.BooleanField(default=True)
    max_respite_days = models.PositiveSmallIntegerField(
        default=90, help_text="the longest respite, in days from the day it is given"
    )
    client_funds_account = models.CharField(
        max_length=34, blank=True, help_text="Bank account receiving payments"
    )
    # Claims in collection and surveillance are paid to the collection client-funds account (seeds 000
    # section 7): money in on it is booked on its own account role and paid out by its own transfer.
    collection_funds_account = models.CharField(
        max_length=34, blank=True, help_text="Bank account receiving payments for claims in collection"
    )
    default_reference_text = models.CharField(max_length=200, blank=True)
    # Last serial handed out for per-ledger payment references (OCR); advanced with one UPDATE per batch.
    last_reference_serial = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(company_no__regex=r"^[0-9]+$"), name="ledger_company_no_digits"
            ),
            models.CheckConstraint(
                condition=Q(ledger_no__regex=r"^[1-9][0-9]*$"), name="ledger_ledger_no_digits"
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="ledger_currency_iso"),
            models.CheckConstraint(
                condition=Q(max_respite_days__gte=1, max_respite_days__lte=365),
                name="ledger_max_respite_1_365",
            ),
        ]

    def __str__(self):
        return f"{self.company_no} {self.name}"

    def today(self) -> date:
        """The ledger's business day: today's date in its own time zone."""
        return timezone.now().astimezone(zoneinfo.ZoneInfo(self.time_zone)).date()


class AccountRole(models.TextChoices):
    RECEIVABLE_CAPITAL = "receivable_capital", "Receivables, capital"
    RECEIVABLE_FEE = "receivable_fee", "Receivables, fees"
    RECEIVABLE_INTEREST = "receivable_interest", "Receivables, interest"
    CLIENT_FUNDS_BANK = "client_funds_bank", "Client-funds bank account"
    COLLECTION_FUNDS_BANK = "collection_funds_bank", "Client-funds bank account, collection"
    SUSPENSE = "suspense", "Unidentified payments (suspense)"
    CUSTOMER_CREDIT = "customer_credit", "Customer credit balances"
    PAYABLE_TO_CLIENT = "payable_to_client", "Payable to client (settlement)"
    INVOICE_CLEARING = "invoice_clearing", "Invoiced sales (clearing)"
    FEE_INCOME = "fee_income", "Fee income"
    INTEREST_INCOME = "interest_income", "Interest income"
    CREDIT = "credit", "Credit notes"
    LOSS_ON_RECEIVABLES = "loss_on_receivables", "Loss on receivables"


class Component(models.TextChoices):
    CAPITAL = "capital", "Capital"
    FEE = "fee", "Fees"
    INTEREST = "interest", "Interest"


RECEIVABLE_ROLE_BY_COMPONENT = {
    Component.CAPITAL: AccountRole.RECEIVABLE_CAPITAL,
    Component.FEE: AccountRole.RECEIVABLE_FEE,
    Component.INTEREST: AccountRole.RECEIVABLE_INTEREST,
}


class Account(models.Model):
    """An account of a ledger's chart. Numbers are data (from the country's base chart), roles are code."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="accounts")
    number = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=32, choices=AccountRole.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "number"], name="account_number_unique_per_ledger"),
            models.UniqueConstraint(
                fields=["ledger", "role"], condition=~Q(role=""), name="account_role_unique_per_ledger"
            ),
        ]
        ordering = ["ledger", "number"]

    def __str__(self):
        return f"{self.number} {self.name}"


class LegalEntity(models.TextChoices):
    PRIVATE = "private", "Private"
    BUSINESS = "business", "Business"


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DECEASED = "deceased", "Deceased"


class Customer(models.Model):
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="customers")
    customer_no = models.CharField(max_length=30)
    name = models.CharField(max_length=200)
    legal_entity = models.CharField(max_length=10, choices=LegalEntity.choices, default=LegalEntity.PRIVATE)
    national_id = models.CharField(max_length=30, blank=True, help_text="Personal or organisation number")
    national_id_country = models.CharField(max_length=2, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    co_address = models.CharField(max_length=200, blank=True)
    billing_address = models.JSONField(
        default=dict, blank=True, help_text="name, line1, line2, co, postal_code, city, country"
    )
    status = models.CharField(max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    # A private person's birth date, from the national id (derived when the number is set): a debtor under
    # MINOR_AGE is never chased in their own name (claims/services/addressees.py).
    birth_date = models.DateField(null=True, blank=True)
    # A minor's guardian, a customer of the same ledger (customer_guardian_same_ledger,
    # ledger/sql/tenancy_keys_3.sql): the reminders and collection go to them.
    guardian = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="wards", db_constraint=False
    )
    protected_identity = models.BooleanField(default=False)
    distribution_type = models.CharField(
        max_length=20, blank=True, help_text="CUSIN DistributionType override"
    )
    edi_van = models.CharField(max_length=60, blank=True)
    edi_buyer_id = models.CharField(max_length=60, blank=True)
    edi_seller_id = models.CharField(max_length=60, blank=True)
    # Last serial handed out for this customer's KID references; advanced with one UPDATE per batch.
    last_reference_serial = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "customer_no"], name="customer_no_unique_per_ledger"),
            models.CheckConstraint(condition=~Q(guardian=F("id")), name="customer_not_own_guardian"),
        ]
        # The 360 customer search (portal360.selectors.customer_search): national id, e-mail, phone, and
        # the name prefix and its order by customer_name_order_idx (ledger_id, upper(name) COLLATE "C", id), made
        # by migration 0020 in SQL.
        indexes = [
            models.Index(
                fields=["national_id"], condition=~Q(national_id=""), name="customer_national_id_idx"
            ),
            models.Index(Lower("email"), condition=~Q(email=""), name="customer_email_search_idx"),
            models.Index(fields=["phone"], condition=~Q(phone=""), name="customer_phone_search_idx"),
        ]

    def __str__(self):
        return f"{self.customer_no} {self.name}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESPITE = "respite", "Respite"
    DISPUTED = "disputed", "Disputed"
    CLOSED = "closed", "Closed"


class Invoice(models.Model):
    """One open item (claim). Its balances are sums of its postings (see selectors.invoice_balances)."""

    # Keyed in the database by invoice_customer_same_ledger (ledger/sql/tenancy_checks.sql): the customer
    # is of the invoice's ledger, so the ledger exists. Indexed by invoice_no_unique_per_ledger and the
    # API's (customer_id, due_date, id) (api/migrations/0003_invoice_list_indexes.py).
    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="invoices", db_constraint=False, db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", db_constraint=False, db_index=False
    )
    invoice_no = models.CharField(max_length=40)
    external_id = models.CharField(max_length=80, blank=True)
    payment_ref = models.CharField(max_length=25)
    invoice_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="Capital as registered; the balance comes from postings")
    reference_text = models.CharField(max_length=200, blank=True)
    # Another payer ("annen betaler"), a customer of the same ledger (invoice_payer_same_ledger,
    # ledger/sql/tenancy_keys_3.sql): they receive the invoice's documents and its claim process.
    payer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    amount_excl_vat = models.DecimalField(**MONEY, null=True, blank=True)
    vat_amount = models.DecimalField(**MONEY, null=True, blank=True)
    # Kept for the document renderer: whether we distribute it, the channel asked for, the print blocks.
    with_distribution = models.BooleanField(default=True)
    distribution_type = models.CharField(max_length=20, blank=True)
    print_blocks = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)
    respite_until = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "invoice_no"], name="invoice_no_unique_per_ledger"),
            models.UniqueConstraint(fields=["ledger", "payment_ref"], name="payment_ref_unique_per_ledger"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=~Q(payer=F("customer")), name="invoice_payer_not_debtor"),
            models.CheckConstraint(
                condition=Q(payment_ref__regex=r"^[0-9]+-?$"), name="invoice_payment_ref_digits"
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.RESPITE, respite_until__isnull=False)
                | (~Q(status=InvoiceStatus.RESPITE) & Q(respite_until__isnull=True)),
                name="invoice_respite_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.CLOSED, closed_on__isnull=False)
                | (~Q(status=InvoiceStatus.CLOSED) & Q(closed_on__isnull=True)),
                name="invoice_closed_has_date",
            ),
        ]
        # (ledger, status, due_date) is indexed by the API's invoice_api_status_due_idx.

    def __str__(self):
        return f"{self.invoice_no}"


class Payment(models.Model):
    """Money in on the client-funds account, booked in one transaction with its allocation.

    `status` is where the money is now; `outcome` is what matching found when it came in. The
    unallocated part of an unidentified payment sits on suspense, linked by postings (payment_id).
    """

    class Status(models.TextChoices):
        UNIDENTIFIED = "unidentified", "Unidentified"
        ALLOCATED = "allocated", "Allocated"
        REFUNDED = "refunded", "Refunded"
        REVERSED = "reversed", "Reversed"
        MOVED = "moved", "Moved to another ledger"

    class Outcome(models.TextChoices):
        EXACT = "exact", "Paid in full"
        PARTIAL = "partial", "Partially paid"
        OVERPAID = "overpaid", "Overpaid"
        DOUBLE = "double", "Paid on a closed invoice"
        UNIDENTIFIED = "unidentified", "Unidentified"
        MISDIRECTED = "misdirected", "Reference of another ledger"

    class MatchDetail(models.TextChoices):
        """Why a payment is unidentified, for the worklist."""

        NONE = "", "Matched"
        NO_REFERENCE = "no_reference", "No reference"
        INVALID_CHECK_DIGIT = "invalid_check_digit", "Wrong check digit"
        NO_MATCH = "no_match", "Valid reference that matches nothing"
        OTHER_LEDGER = "other_ledger", "Reference of another ledger"

    # ledger and file are keyed in the database by payment_ledger_exists and payment_file_exists
    # (ledger/sql/tenancy_checks.sql); the ledger's index is payment_archive_ref_unique.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="payments", db_constraint=False, db_index=False
    )
    file = models.ForeignKey(
        "PaymentFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_constraint=False,
    )
    bank_archive_ref = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    payment_ref = models.CharField(max_length=40, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_account = models.CharField(max_length=40, blank=True)
    receiving_account = models.CharField(max_length=40, blank=True)
    text = models.TextField(blank=True)
    booking_date = models.DateField()
    value_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    match_detail = models.CharField(max_length=24, choices=MatchDetail.choices, blank=True)
    # Keyed in the database by composite (x_id, ledger_id) keys (ledger/sql/tenancy_checks.sql).
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments", db_constraint=False
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_constraint=False,
    )
    misdirected_company_no = models.CharField(
        max_length=100, blank=True, help_text="CompanyNo of the ledger(s) whose invoice has this reference"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ledger", "bank_archive_ref"], name="payment_archive_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        # The worklist of unidentified payments; the other statuses are read by invoice, customer or file.
        indexes = [
            models.Index(
                fields=["ledger"], name="payment_unidentified_idx", condition=Q(status="unidentified")
            )
        ]

    def __str__(self):
        return f"{self.bank_archive_ref} {self.amount}"


class TransactionKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    FEE = "fee", "Fee"
    INTEREST = "interest", "Interest"
    PAYMENT = "payment", "Payment"
    ALLOCATION = "allocation", "Allocation"
    CREDIT = "credit", "Credit"
    WRITE_OFF = "write_off", "Write-off"
    PAYOUT = "payout", "Payout"
    SETTLEMENT = "settlement", "Settlement"
    REVERSAL = "reversal", "Reversal"
    MOVE = "move", "Payment moved to another ledger"
    COST_TRANSFER = "cost_transfer", "Unpaid costs carried to the customer's next invoice"


class Cause(models.TextChoices):
    """Why a credit or write-off was booked (the causes of the Accounting Detail)."""

    BANKRUPTCY = "Bankruptcy"
    COMPOSITION_ARRANGEMENT = "CompositionArrangement"
    SETTLEMENT = "Settlement"
    WRONG_ADDRESS = "WrongAddress"
    COMPLAINT = "Complaint"
    WRONG_REG_NO = "WrongRegNo"
    UNDER_AGE = "UnderAge"
    DECEASED = "Deceased"
    FRAUD = "Fraud"
    DISPUTE = "Dispute"
    MONITORING = "Monitoring"
    APPROVED_DIFF = "ApprovedDiff"


class JournalTransaction(models.Model):
    """One business event, booked as postings that sum to zero. Append-only."""

    # Keyed in the database by journaltransaction_ledger_exists (ledger/sql/tenancy_checks.sql); indexed
    # by transaction_ledger_date_idx.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="transactions", db_constraint=False, db_index=False
    )
    booking_date = models.DateField()
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    cause = models.CharField(max_length=32, choices=Cause.choices, blank=True)
    description = models.CharField(max_length=200, blank=True)
    # Keyed in the database by composite (x_id, ledger_id) keys (ledger/sql/tenancy_checks.sql).
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    # Reversed at most once (transaction_reversed_once); only the few reversals are indexed.
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", db_index=False
    )
    # Not indexed: nothing looks transactions up by user (and users are never deleted).
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ledger", "booking_date"], name="transaction_ledger_date_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transaction_reversed_once"
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.booking_date}"


class Posting(models.Model):
    """One line of a transaction. Positive amounts are debits, negative amounts credits."""

    # The database keys of these references are the (x_id, ledger_id) checks of
    # ledger/sql/tenancy_checks.sql, which also keep a posting inside its own ledger; Django's own
    # single-column keys would check the same rows a second time at commit.
    transaction = models.ForeignKey(
        JournalTransaction, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    # Indexed by posting_invoice_component_idx, whose first column it is.
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="postings",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    component = models.CharField(max_length=10, choices=Component.choices, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(component="") | Q(invoice__isnull=False), name="posting_component_needs_invoice"
            ),
        ]
        indexes = [
            models.Index(fields=["invoice", "component"], name="posting_invoice_component_idx"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.amount}"


class JournalMonth(models.Model):
    """The journal summed by booking month, for the dashboard's balances and monthly figures: one row
    per (ledger, month, transaction kind, overdue-from day) and per write. Kept by the database
    (ledger/sql/journal_months.sql): a statement trigger on the postings adds the rows each INSERT or
    COPY brought, summed; run_daily merges a ledger's rows into one per key
    (ledger.summaries.ledger_summaries_compact). The rows are only ever added, never updated by a
    writer, so concurrent imports never wait on each other's summary rows.

    `overdue_from` is the invoice's due date + 1 for component postings (the first day they count as
    overdue), NULL for the rest."""

    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by journalmonth_ledger_month_idx
    month = models.DateField(help_text="first day of the booking month")
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    overdue_from = models.DateField(null=True)
    receivable = models.DecimalField(**MONEY, help_text="component postings: capital + fees + interest")
    capital = models.DecimalField(**MONEY)
    capital_postings = models.BigIntegerField()
    funds_in = models.DecimalField(**MONEY, help_text="debits of the client-funds bank account")
    funds_in_postings = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["ledger", "month"], name="journalmonth_ledger_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.kind} {self.receivable}"


class PaidMonth(models.Model):
    """Invoices paid in full per month by the stage their claim had reached that day (a `paid` invoice
    event each), for the dashboard. Kept like JournalMonth: a statement trigger on the invoice events
    (ledger/sql/journal_months.sql), merged by run_daily."""

    class Stage(models.TextChoices):
        BY_DUE_DATE = "by_due_date", "By the due date"
        LATE = "late", "After the due date, before a reminder"
        AFTER_REMINDER = "after_reminder", "After a reminder"
        AFTER_COLLECTION_NOTICE = "after_collection_notice", "After the collection notice"
        IN_COLLECTION = "in_collection", "In collection"

    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by paidmonth_ledger_month_idx
    month = models.DateField(help_text="first day of the month of the payment")
    stage = models.CharField(max_length=24, choices=Stage.choices)
    invoices = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["ledger", "month"], name="paidmonth_ledger_month_idx")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.stage} {self.invoices}"


class AccountDay(models.Model):
    """The journal summed per booking day, book account and accounting action (the transaction's kind,
    or `<kind>_reversal` for a reversal of one): postings, debit and credit, for the monthly accounting
    report and its day-by-day reconciliation. Kept like JournalMonth: a statement trigger on the postings
    adds the rows each INSERT or COPY brought (ledger/sql/account_days.sql; the registration writes its
    own), merged by run_daily."""

    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by accountday_ledger_date_idx
    booking_date = models.DateField()
    account = models.ForeignKey(
        "Account", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    action = models.CharField(max_length=40)
    postings = models.BigIntegerField()
    debit = models.DecimalField(**MONEY, help_text="the positive amounts")
    credit = models.DecimalField(**MONEY, help_text="the negative amounts, as a positive number")

    class Meta:
        indexes = [models.Index(fields=["ledger", "booking_date"], name="accountday_ledger_date_idx")]

    def __str__(self):
        return f"{self.booking_date} {self.account_id} {self.action} {self.debit - self.credit}"


class RegistrationDay(models.Model):
    """Invoices registered per booking day and by whom, with their amount (the created-invoices report),
    so a period's report reads a row per day and registrant instead of every invoice registered then.
    Kept like JournalMonth: a statement trigger on the invoice events adds one row per (ledger, day,
    actor) of the `registered` events each statement brought (ledger/sql/registration_days.sql; the
    registration writes its own and the trigger stands aside), merged by run_daily."""

    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by registrationday_ledger_idx
    booking_date = models.DateField()
    actor = models.CharField(max_length=150)
    invoices = models.BigIntegerField()
    amount = models.DecimalField(**MONEY)

    class Meta:
        indexes = [models.Index(fields=["ledger", "booking_date"], name="registrationday_ledger_idx")]

    def __str__(self):
        return f"{self.booking_date} {self.actor} {self.invoices}"


class OpenVersion(models.Model):
    """An invoice's open amount by component over the days it held (valid_from up to, not including,
    valid_to; NULL: still so), for the reports as of a date (aging, the ledger report, the invoice
    claims): as of D they read the versions whose range holds D and whose open amount is not zero, so
    their cost follows the items open on D, not the history. One version per invoice and booking day
    with component postings. Kept by the database (ledger/sql/open_versions.sql): a statement trigger on
    the postings closes the version a day's postings change and adds the next; rebuilt from the journal
    by ledger_summaries_rebuild, checked by verify_ledger.

    Keyed by (invoice, valid_from), with no id: every registration writes one, so each index counts
    (bench_register_invoices.py). Two partial indexes in open_versions.sql find the open ones: the current
    versions by ledger (a btree), the closed ones by ledger and range (GiST)."""

    pk = models.CompositePrimaryKey("invoice", "valid_from")
    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # the invoice's, which never change: the aging groups and buckets the versions without the invoices
    customer = models.ForeignKey(
        "Customer", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    due_date = models.DateField()
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, help_text="the first day it no longer held; NULL: it still does")
    capital = models.DecimalField(**MONEY)
    fees = models.DecimalField(**MONEY)
    interest = models.DecimalField(**MONEY)
    paid = models.DecimalField(
        **MONEY, help_text="brought by payments and their allocations, net of reversals"
    )
    open = models.DecimalField(**MONEY, help_text="capital + fees + interest")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=models.F("valid_from")),
                name="openversion_range_not_empty",
            ),
            models.CheckConstraint(
                condition=models.Q(open=models.F("capital") + models.F("fees") + models.F("interest")),
                name="openversion_open_is_components",
            ),
        ]

    def __str__(self):
        return f"{self.invoice_id} {self.valid_from}..{self.valid_to} {self.open}"


class InvoiceEventKind(models.TextChoices):
    REGISTERED = "registered", "Registered"
    CREDITED = "credited", "Credited"
    WRITTEN_OFF = "written_off", "Written off"
    RESPITE_SET = "respite_set", "Respite set"
    RESPITE_CLEARED = "respite_cleared", "Respite cleared"
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    DISPUTE_CLOSED = "dispute_closed", "Dispute closed"
    CLOSED = "closed", "Closed"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    REOPENED = "reopened", "Reopened"
    PAYMENT_REVERSED = "payment_reversed", "Payment reversed"
    DIRECT_DEBIT_SENT = "direct_debit_sent", "Direct debit claim sent"
    DIRECT_DEBIT_FAILED = "direct_debit_failed", "Direct debit failed"
    DIRECT_DEBIT_EXHAUSTED = "direct_debit_exhausted", "Direct debit attempts used up: reminders take over"
    DIRECT_DEBIT_CANCELLED = "direct_debit_cancelled", "Direct debit claim cancelled"
    # Claim steps (claims/): one kind per step, so the Bill Journal names what happened.
    LATE_FEE_CHARGED = "late_fee_charged", "Late fee charged"
    SMS_REMINDER_SENT = "sms_reminder_sent", "Friendly reminder SMS sent"
    REMINDER_SENT = "reminder_sent", "Reminder sent"
    COLLECTION_NOTICE_SENT = "collection_notice_sent", "Collection notice sent"
    MOVED_TO_COLLECTION = "moved_to_collection", "Moved to collection: payment demand sent"
    CALL_TASK_CREATED = "call_task_created", "Call-centre task created"
    HEAVY_FEE_CHARGED = "heavy_fee_charged", "Heavy collection fee charged"
    LEGAL_NOTICE_SENT = "legal_notice_sent", "Notice before legal action sent"
    LEGAL_ACTION_TAKEN = "legal_action_taken", "Legal action taken"
    MOVED_TO_SURVEILLANCE = "moved_to_surveillance", "Moved to long-term surveillance"
    HANDED_TO_FOREIGN_PARTNER = "handed_to_foreign_partner", "Handed to the foreign collection partner"
    INTEREST_BOOKED = "interest_booked", "Interest booked"
    COSTS_CARRIED = "costs_carried", "Unpaid costs carried to or from another invoice"
    COLLECTION_STOPPED = "collection_stopped", "Collection stopped on the client's request"
    COLLECTION_RECALLED = "collection_recalled", "Claim recalled from collection on the client's request"


class InvoiceEvent(models.Model):
    """Every change to an invoice: who, when, from which status to which, and why."""

    # ledger, invoice and transaction are keyed in the database by composite (x_id, ledger_id) keys
    # (ledger/sql/tenancy_checks.sql): an event can only name its own ledger's invoice and transaction.
    ledger = models.ForeignKey(
        Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )  # indexed by invoiceevent_ledger_date_idx
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="events", db_constraint=False)
    kind = models.CharField(max_length=32, choices=InvoiceEventKind.choices)
    from_status = models.CharField(max_length=10, choices=InvoiceStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=InvoiceStatus.choices)
    booking_date = models.DateField()
    reason = models.CharField(max_length=500, blank=True)
    transaction = models.ForeignKey(
        JournalTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # read with the event, never looked up by
    )
    # Not indexed: nothing looks events up by user (and users are never deleted).
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ledger", "booking_date"], name="invoiceevent_ledger_date_idx")]

    def __str__(self):
        return f"{self.kind} {self.booking_date}"


class ConsentKind(models.TextChoices):
    AUTOGIRO_SE = "autogiro_se", "Autogiro (Sweden)"
    AVTALEGIRO_NO = "avtalegiro_no", "AvtaleGiro (Norway)"
    BETALINGSSERVICE_DK = "betalingsservice_dk", "Betalingsservice (Denmark)"
    EINVOICE_B2C_SE = "einvoice_b2c_se", "E-faktura (Sweden)"
    EINVOICE_B2C_NO = "einvoice_b2c_no", "eFaktura (Norway)"
    EINVOICE_B2C_FI = "einvoice_b2c_fi", "E-invoice (Finland)"
    KIVRA = "kivra", "Kivra"


class CustomerConsent(models.Model):
    """A customer's consent to direct debit or e-invoice; active until cancelled."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    active = models.BooleanField(default=True)
    changed_on = models.DateField()
    source = models.CharField(max_length=100, blank=True)
    # Direct debit: whether the payer wants to be notified of each claim (AvtaleGiro agreement flag J/N).
    notify_payer = models.BooleanField(default=True)
    # Direct debit: the number the bank keeps the consent under, from its agreement file (Autogiro payer
    # number, Betalingsservice agreement number); blank when the consent came from CUSIN only.
    bank_ref = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind"], name="consent_unique_per_customer")
        ]

    def __str__(self):
        return f"{self.kind} {'active' if self.active else 'cancelled'}"


class CustomerEventKind(models.TextChoices):
    CREATED = "created", "Created"
    LEGAL_ADDRESS_CHANGED = "legal_address_changed", "New legal address"
    LEGAL_ENTITY_CHANGED = "legal_entity_changed", "Legal entity changed"
    GUARDIAN_CHANGED = "guardian_changed", "Guardian changed"
    CONSENT_ACTIVATED = "consent_activated", "Consent activated"
    CONSENT_CANCELLED = "consent_cancelled", "Consent cancelled"
    CONSENT_CHANGED = "consent_changed", "Consent changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    RETURNED_MAIL = "returned_mail", "Returned mail"
    NOTIFICATION_SENT = "notification_sent", "Customer notification sent"


class CustomerEvent(models.Model):
    """Every change the Customer Journal reports: who, when, what it was and what it became."""

    # Keyed in the database by the composite (customer_id, ledger_id) key (ledger/sql/tenancy_checks.sql).
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="events", db_constraint=False
    )
    kind = models.CharField(max_length=32, choices=CustomerEventKind.choices)
    booking_date = models.DateField()
    old_value = models.JSONField(default=dict, blank=True)
    new_value = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ledger", "booking_date"], name="customerevent_ledger_date_idx")]

    def __str__(self):
        return f"{self.kind} {self.booking_date}"


# --- Bank files, payouts and payment events ---------------------------------------------------------


class PaymentFileStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate (already booked)"


class PaymentFile(models.Model):
    """Every bank payment file we read: booked (accepted), refused whole (rejected) or seen before."""

    ledger = models.ForeignKey(
        Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_files"
    )
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=16, blank=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the content")
    size = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=PaymentFileStatus.choices)
    summary = models.JSONField(default=dict, blank=True, help_text="what import_payments printed")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Only an accepted file booked anything; a rejected file may come again, and every
            # repeat of an accepted one is kept on record as a duplicate.
            models.UniqueConstraint(
                fields=["ledger", "digest"],
                condition=Q(status="accepted"),
                name="payment_file_digest_once",
            ),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.status})"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"


class Payout(models.Model):
    """Money out to a customer or payer (a refund), booked as a PAYOUT transaction; sent by pain.001."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="payouts")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    bank_account = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    reason = models.CharField(max_length=500)
    transaction = models.OneToOneField(JournalTransaction, on_delete=models.PROTECT, related_name="payout")
    # The pain.001 file that sent it (set together with status "sent", see ledger/payments/payouts.py).
    batch = models.ForeignKey(
        "PayoutBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(condition=~Q(bank_account=""), name="payout_has_bank_account"),
        ]
        indexes = [models.Index(fields=["ledger", "status"], name="payout_ledger_status_idx")]

    def __str__(self):
        return f"payout {self.amount} to {self.bank_account} ({self.status})"


class PaymentEventKind(models.TextChoices):
    ALLOCATED = "allocated", "Unidentified payment allocated"
    REFUNDED = "refunded", "Payment refunded"
    REVERSED = "reversed", "Payment reversed"
    CREDIT_MOVED = "credit_moved", "Credit balance moved to an invoice"
    CREDIT_REFUNDED = "credit_refunded", "Credit balance refunded"
    MOVED_OUT = "moved_out", "Misdirected payment moved to another ledger"
    MOVED_IN = "moved_in", "Misdirected payment moved in from another ledger"


class PaymentEvent(models.Model):
    """An operator's action on a payment or a credit balance: who, when, what, how much and why."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=PaymentEventKind.choices)
    amount = models.DecimalField(**MONEY)
    booking_date = models.DateField()
    reason = models.CharField(max_length=500)
    transaction = models.ForeignKey(JournalTransaction, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.booking_date}"


class PendingOutboxFile(models.Model):
    """A file for the outbox written (fsynced) under a hidden name by a run whose transaction then
    committed, and not yet put under its real name (ledger.services.outbox_files): a row lives from
    the commit to the publication a moment later, so one is left only by a worker killed in between,
    and the next run of the same job publishes it. The bank and the client never see a file whose
    records were rolled back, and never miss one whose records were committed."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=500, unique=True, help_text="the file's real path")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.path


class PayoutBatch(models.Model):
    """One pain.001 credit-transfer file written to the outbox: the payouts it sent (Payout.batch)."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="payout_batches")
    file_name = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=35, unique=True, help_text="pain.001 GrpHdr/MsgId")
    execution_date = models.DateField(help_text="pain.001 ReqdExctnDt")
    count = models.PositiveIntegerField()
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "payout batches"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0), name="payout_batch_not_empty"),
            models.CheckConstraint(condition=Q(total__gt=0), name="payout_batch_total_positive"),
        ]

    def __str__(self):
        return f"{self.message_id} ({self.count} payouts, {self.total} {self.currency})"


# --- Direct debit (ledger/payments/direct_debit/) ----------------------------------------------------------


class DirectDebitKind(models.TextChoices):
    AVTALEGIRO_NO = "avtalegiro_no", "AvtaleGiro (Norway)"
    AUTOGIRO_SE = "autogiro_se", "Autogiro (Sweden)"
    BETALINGSSERVICE_DK = "betalingsservice_dk", "Betalingsservice (Denmark)"


class DirectDebitStatus(models.TextChoices):
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled (settled otherwise before the debit date)"


class DirectDebitBankOutcome(models.TextChoices):
    APPROVED = "approved", "Approved by the bank"
    FAILED = "failed", "Failed at the bank"
    RENEWED = "renewed", "Renewed: the bank tries again"


class DirectDebitFilePurpose(models.TextChoices):
    CLAIMS = "claims", "Payment claims"
    CANCELLATIONS = "cancellations", "Cancellations of claims sent earlier"


# A failed debit is retried until this many attempts have failed; then the reminder process takes over.
DIRECT_DEBIT_MAX_ATTEMPTS = 3


class DebitAgreementFile(models.Model):
    """Every direct-debit file from the bank (AvtaleGiro agreements, Autogiro mandate notices and payment
    specifications, Betalingsservice agreement and payment information): booked (accepted), refused
    whole (rejected) or seen before (duplicate)."""

    ledger = models.ForeignKey(
        Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="debit_agreement_files"
    )
    kind = models.CharField(max_length=20, choices=DirectDebitKind.choices)
    file_name = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the content")
    size = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=PaymentFileStatus.choices)
    summary = models.JSONField(default=dict, blank=True, help_text="what import_debit_agreements printed")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "digest"],
                condition=Q(status="accepted"),
                name="debit_agreement_file_digest_once",
            ),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.status})"


class DirectDebitClaimFile(models.Model):
    """One file written to the outbox for the bank: payment claims (AvtaleGiro claim transmission, Autogiro
    request file, Betalingsservice collection delivery) or cancellations of claims sent earlier."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="debit_claim_files")
    kind = models.CharField(max_length=20, choices=DirectDebitKind.choices)
    purpose = models.CharField(
        max_length=16, choices=DirectDebitFilePurpose.choices, default=DirectDebitFilePurpose.CLAIMS
    )
    file_name = models.CharField(max_length=255, unique=True)
    transmission_number = models.CharField(max_length=7)
    as_of = models.DateField(help_text="the business day the claims were sent")
    count = models.PositiveIntegerField()
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0), name="debit_claim_file_not_empty"),
            models.CheckConstraint(condition=Q(total__gt=0), name="debit_claim_file_total_positive"),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.count} claims, {self.total} {self.currency})"


class DirectDebitAttempt(models.Model):
    """One attempt to collect an invoice by direct debit: a claim sent to the bank, then paid or failed.

    At most DIRECT_DEBIT_MAX_ATTEMPTS per invoice, numbered 1, 2, 3; at most one in status "sent".
    """

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="debit_attempts")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DirectDebitKind.choices)
    attempt_no = models.PositiveSmallIntegerField()
    amount = models.DecimalField(**MONEY, help_text="the amount claimed: what was open when it was sent")
    due_date = models.DateField(help_text="the debit date in the claim")
    status = models.CharField(
        max_length=10, choices=DirectDebitStatus.choices, default=DirectDebitStatus.SENT
    )
    claim_file = models.ForeignKey(DirectDebitClaimFile, on_delete=models.PROTECT, related_name="attempts")
    cancel_file = models.ForeignKey(
        DirectDebitClaimFile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancelled_attempts",
    )
    # The payer as the claim names them (KID, Autogiro payer number, Betalingsservice customer no): a
    # cancellation must repeat the claim exactly.
    payer_ref = models.CharField(max_length=30, blank=True)
    # What the bank's result file said about this debit (Autogiro, Betalingsservice): an approved debit
    # waits for its money (booked from the bank's payment file) and is not failed for being late.
    bank_outcome = models.CharField(max_length=10, choices=DirectDebitBankOutcome.choices, blank=True)
    bank_result = models.CharField(max_length=200, blank=True)
    # An approved debit (Autogiro, Betalingsservice) is booked from the bank's result file as this
    # payment; the bank's own line for the money, when it arrives in a payment file, reconciles it
    # instead of being booked a second time.
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconciled_on = models.DateField(
        null=True, blank=True, help_text="the booking date of the bank's line for the debited money"
    )
    # db_default: the claim files' set-based INSERT names the columns it fills.
    reconciled_ref = models.CharField(
        max_length=64, blank=True, db_default="", help_text="the bank archive reference of that line"
    )
    reconciled_file = models.ForeignKey(
        PaymentFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_on = models.DateField(help_text="the business day the claim was sent")
    settled_on = models.DateField(
        null=True, blank=True, help_text="the business day it was found paid or failed"
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "attempt_no"], name="debit_attempt_no_unique"),
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status="sent"), name="debit_attempt_one_sent_per_invoice"
            ),
            models.CheckConstraint(
                condition=Q(attempt_no__gte=1, attempt_no__lte=DIRECT_DEBIT_MAX_ATTEMPTS),
                name="debit_attempt_no_range",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="debit_attempt_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="sent", settled_on__isnull=True, settled_at__isnull=True)
                | (~Q(status="sent") & Q(settled_on__isnull=False, settled_at__isnull=False)),
                name="debit_attempt_settled_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancel_file__isnull=False)
                | (~Q(status="cancelled") & Q(cancel_file__isnull=True)),
                name="debit_attempt_cancelled_has_file",
            ),
            # Booked from the result file means paid; reconciled means booked first, and by one line.
            models.CheckConstraint(
                condition=Q(payment__isnull=True) | Q(status="paid", bank_outcome="approved"),
                name="debit_attempt_booked_is_paid",
            ),
            models.CheckConstraint(
                condition=Q(reconciled_on__isnull=True, reconciled_ref="", reconciled_file__isnull=True)
                | Q(payment__isnull=False, reconciled_on__isnull=False, reconciled_file__isnull=False)
                & ~Q(reconciled_ref=""),
                name="debit_attempt_reconciled_whole",
            ),
            models.UniqueConstraint(
                fields=["ledger", "reconciled_ref"],
                condition=~Q(reconciled_ref=""),
                name="debit_attempt_reconciled_ref_once",
            ),
        ]
        indexes = [
            models.Index(fields=["ledger", "status", "due_date"], name="debit_attempt_status_idx"),
            # The approved debits whose money has not been seen yet: read by every payment import.
            models.Index(
                fields=["ledger"],
                name="debit_attempt_awaiting_idx",
                condition=Q(payment__isnull=False, reconciled_on__isnull=True),
            ),
        ]
        ordering = ["invoice_id", "attempt_no"]

    def __str__(self):
        return f"direct debit {self.attempt_no} of invoice {self.invoice_id} ({self.status})"


class AuditKind(models.TextChoices):
    LEDGER_RULES = "ledger_rules", "Ledger rules"
    CLAIM_SETTINGS = "claim_settings", "Claim settings"
    CLAIM_STEPS = "claim_steps", "Claim process steps"
    DOCUMENT_PROFILE = "document_profile", "Distribution overrides"
    USER = "user", "User"
    API_TOKEN = "api_token", "API token"


class AuditEvent(models.Model):
    """A change to a client's settings, users or tokens: who, when, what it was and what it became.
    A settings change may take effect later: `effective_from`, and `applied_at` once it has (the
    business day applies those that fell due)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    ledger = models.ForeignKey(Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=AuditKind.choices)
    action = models.CharField(
        max_length=40, help_text="e.g. change, invite, role_set, deactivate, create, revoke"
    )
    target = models.CharField(
        max_length=200, help_text="what was changed: a username, a token prefix, a ledger"
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="audit_client_time_idx"),
            models.Index(
                fields=["effective_from"], name="audit_pending_idx", condition=Q(applied_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.action} {self.target}"


class ActionKind(models.TextChoices):
    CHANGE = "change", "Change"
    REVEAL = "reveal", "Reveal"


class ActionLogEntry(models.Model):
    """One request by an operator, an integrator or a customer that changed or revealed data (issue 29):
    who, for which client and ledger, what (the route, its object, the fields sent with personal data and
    secrets masked), the answer's status, from where, and the request id the logs carry. Written by
    payex_ledger.middleware.ActionLogMiddleware after the answer, refused ones included; append-only: the
    database refuses UPDATE and DELETE (ledger/sql/action_log.sql). What a settings change was
    before and after is in AuditEvent, found by the same moment and actor."""

    created_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ledger = models.ForeignKey(Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150, help_text="a username, 'token <prefix>', 'portal link', or blank")
    channel = models.CharField(max_length=16, help_text="360, api, portal, admin or other")
    kind = models.CharField(max_length=8, choices=ActionKind.choices)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    view = models.CharField(max_length=200, blank=True, help_text="the route's name")
    target = models.JSONField(default=dict, blank=True, help_text="the route's arguments: the object acted on")
    params = models.JSONField(default=dict, blank=True, help_text="the fields sent, masked")
    status = models.PositiveSmallIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client", "-id"], name="actionlog_client_idx")]

    def __str__(self):
        return f"{self.actor} {self.method} {self.path} {self.status}"


class InvoiceAttachment(models.Model):
    """A PDF the client sends with an invoice: its pages follow the invoice document's in the archived PDF,
    so every channel that carries the PDF (e-mail, eFaktura, paper) carries them (seeds 002, "Invoice
    attachment"). Stored in the document archive; checked to be a whole, readable PDF when received
    (ledger/services/attachments.py); appended by distribution/services/attachments.py."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField(help_text="1, 2, ...: the order the pages follow in")
    file_name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    pages = models.PositiveSmallIntegerField()
    sha256 = models.CharField(max_length=64)
    archive_name = models.CharField(max_length=300)
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="attachment_position_unique"),
            models.UniqueConstraint(fields=["invoice", "sha256"], name="attachment_once_per_invoice"),
            models.CheckConstraint(condition=Q(pages__gte=1) & Q(size__gte=1), name="attachment_not_empty"),
        ]
        ordering = ["invoice", "position"]

    def __str__(self):
        return f"attachment {self.position} of invoice {self.invoice_id}: {self.file_name}"


class MandateRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the next transmission"
    SENT = "sent", "Sent to Bankgirot"
    APPROVED = "approved", "Approved by Bankgirot"
    REFUSED = "refused", "Refused by Bankgirot"


class AutogiroMandateRequest(models.Model):
    """A new Autogiro mandate a customer asked for (the invoice portal's sign-up): sent to Bankgirot as a
    TK04 record in the next mandate file (ledger/payments/direct_debit/autogiro.py); Bankgirot's mandate
    notice approves it (the consent becomes active) or refuses it (the Customer Journal says why)."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="mandate_requests")
    payer_number = models.CharField(max_length=16, help_text="the payer number Bankgirot knows the payer by")
    clearing = models.CharField(max_length=5)
    account = models.CharField(max_length=12)
    national_id = models.CharField(max_length=12, help_text="YYYYMMDDNNNN")
    status = models.CharField(max_length=10, choices=MandateRequestStatus.choices, default=MandateRequestStatus.PENDING)
    source = models.CharField(max_length=100)
    requested_on = models.DateField()
    file_name = models.CharField(max_length=100, blank=True, help_text="the mandate file it went in")
    sent_on = models.DateField(null=True, blank=True)
    answered_on = models.DateField(null=True, blank=True)
    answer = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status__in=["pending", "sent"]), name="mandate_request_one_open"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | (~Q(file_name="") & Q(sent_on__isnull=False)),
                name="mandate_request_sent_has_its_file",
            ),
        ]

    def __str__(self):
        return f"Autogiro mandate request of customer {self.customer_id} ({self.status})"
