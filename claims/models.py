"""The claim process: dated statutory figures, each ledger's steps, and every claim's position in them."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import MONEY, Country, Invoice, JournalTransaction, Ledger, User


class FigureKind(models.TextChoices):
    """A statutory amount, rate or limit. Values are data (StatutoryFigure rows), never constants in code."""

    LATE_INTEREST_RATE = "late_interest_rate", "Late-payment interest, % per year"
    REMINDER_FEE = "reminder_fee", "Reminder / collection-notice fee"
    COLLECTION_FEE_LIGHT = "collection_fee_light", "Light collection fee (by claim size)"
    HEAVY_FEE_FACTOR = "heavy_fee_factor", "Heavy collection fee as a multiple of the light fee"
    BUSINESS_FEE_FACTOR = "business_fee_factor", "Collection fees for business debtors, multiple"
    BUSINESS_COMPENSATION = "business_compensation", "Late fee / compensation for business debtors"
    MAX_REMINDER_FEES = "max_reminder_fees", "Reminder / notice fees per claim, at most"
    MIN_DAYS_AFTER_DUE_FOR_FEE = "min_days_after_due_for_fee", "Days after the due date before a fee"
    MIN_DEADLINE_DAYS = "min_deadline_days", "Deadline of a letter with a fee, at least (days)"
    MIN_DAYS_BETWEEN_FEES = "min_days_between_fees", "Days between two reminder fees, at least"


class StatutoryFigure(models.Model):
    """One statutory figure of a country for a period (valid_to inclusive; open-ended when empty).

    Amount tables by claim size use claim_above (exclusive) and claim_up_to (inclusive). Periods of the same
    figure and band never overlap (an exclusion constraint, claims/sql/figures.sql)."""

    country = models.CharField(max_length=2, choices=Country.choices)
    kind = models.CharField(max_length=32, choices=FigureKind.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    claim_above = models.DecimalField(**MONEY, null=True, blank=True)
    claim_up_to = models.DecimalField(**MONEY, null=True, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=4)
    source = models.CharField(
        max_length=300, blank=True, help_text="Where the figure comes from; 'verify' if provisional"
    )

    class Meta:
        ordering = ["country", "kind", "valid_from", "claim_above"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="figure_period_ordered",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="figure_value_not_negative"),
            models.CheckConstraint(
                condition=Q(claim_above__isnull=True)
                | Q(claim_up_to__isnull=True)
                | Q(claim_up_to__gt=models.F("claim_above")),
                name="figure_band_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.country} {self.kind} {self.value} from {self.valid_from}"


class StepKind(models.TextChoices):
    SMS_REMINDER = "sms_reminder", "Friendly reminder (SMS)"
    REMINDER = "reminder", "Reminder"
    COLLECTION_NOTICE = "collection_notice", "Collection notice"
    PAYMENT_DEMAND = "payment_demand", "Payment demand (light collection fee)"
    CALL_TASK = "call_task", "Call-centre task"
    HEAVY_FEE = "heavy_fee", "Heavy collection fee"
    LEGAL_NOTICE = "legal_notice", "Notice before legal action"
    LEGAL_ACTION = "legal_action", "Legal action (enforcement petition)"
    SURVEILLANCE = "surveillance", "Long-term surveillance"
    LATE_FEE = "late_fee", "Late fee / compensation (business)"
    FOREIGN_HANDOVER = "foreign_handover", "Handed to the foreign collection partner"


class Anchor(models.TextChoices):
    DEADLINE = "deadline", "after the current deadline"
    PREVIOUS_STEP = "previous_step", "after the previous step"


class FeeRule(models.TextChoices):
    NONE = "none", "No fee"
    FIXED = "fixed", "Fixed amount"
    REMINDER = "reminder", "Statutory reminder fee"
    COLLECTION_LIGHT = "collection_light", "Statutory light collection fee"
    COLLECTION_HEAVY = "collection_heavy", "Statutory heavy collection fee (less the light fee charged)"
    BUSINESS_COMPENSATION = "business_compensation", "Statutory business compensation"


class Audience(models.TextChoices):
    ALL = "all", "Every customer"
    CONSUMER = "consumer", "Consumers"
    BUSINESS = "business", "Business customers"
    DOMESTIC = "domestic", "Customers with an address in the ledger's country"
    FOREIGN = "foreign", "Customers with a foreign address"


class StepChannel(models.TextChoices):
    ANY = "any", "By the customer's distribution rules"
    SMS = "sms", "SMS"
    PAPER_LEGAL_ADDRESS = "paper_legal_address", "Paper to the registered legal address"
    NONE = "none", "No letter"


class ClaimStep(models.Model):
    """One step of a ledger's claim process. Its date is `offset_days` after the current deadline (or after
    the previous step); a step with `deadline_days` sets a new deadline that far from the day it is taken."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="claim_steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    anchor = models.CharField(max_length=16, choices=Anchor.choices, default=Anchor.DEADLINE)
    offset_days = models.PositiveSmallIntegerField()
    deadline_days = models.PositiveSmallIntegerField(default=0)
    fee_rule = models.CharField(max_length=24, choices=FeeRule.choices, default=FeeRule.NONE)
    fixed_fee = models.DecimalField(**MONEY, null=True, blank=True)
    fee_needs_agreement = models.BooleanField(
        default=False,
        help_text="Charge the fee only when the ledger has agreed it (ClaimSettings.reminder_fee_agreed)",
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    channel = models.CharField(max_length=20, choices=StepChannel.choices, default=StepChannel.ANY)
    needs_document = models.BooleanField(default=True)
    min_open_amount = models.DecimalField(**MONEY, default=0)
    stops_timeline = models.BooleanField(
        default=False, help_text="The claim leaves our timeline after this step"
    )

    class Meta:
        ordering = ["ledger", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ledger", "position"], name="claim_step_position_unique"),
            models.CheckConstraint(condition=Q(position__gte=1), name="claim_step_position_positive"),
            models.CheckConstraint(
                condition=~Q(fee_rule="fixed") | Q(fixed_fee__gt=0), name="claim_step_fixed_fee_set"
            ),
            models.CheckConstraint(
                condition=Q(min_open_amount__gte=0), name="claim_step_minimum_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.kind}"


class UnpaidCostsRule(models.TextChoices):
    WRITE_OFF = "write_off", "Close them: write off the remaining fees and interest"
    KEEP_CHASING = "keep_chasing", "Keep chasing them as a cost claim"
    NEXT_INVOICE = "next_invoice", "Carry them to the customer's next invoice"


class ClaimSettings(models.Model):
    """A ledger's agreed choices that the statute leaves open."""

    ledger = models.OneToOneField(Ledger, on_delete=models.PROTECT, related_name="claim_settings")
    business_late_fee = models.BooleanField(
        default=False, help_text="Business customers get the late fee instead of reminder and collection fees"
    )
    reminder_fee_agreed = models.BooleanField(
        default=False, help_text="Sweden: the reminder fee may only be charged when agreed with the customer"
    )
    unpaid_costs = models.CharField(
        max_length=16, choices=UnpaidCostsRule.choices, default=UnpaidCostsRule.WRITE_OFF
    )
    interest_charged = models.BooleanField(
        default=True,
        help_text="Late-payment interest is booked on overdue claims (from the day after the due date, as the "
        "statute allows); off, the claim steps and the invoice pages book and show none",
    )

    class Meta:
        verbose_name_plural = "claim settings"

    def __str__(self):
        return f"claim settings of {self.ledger_id}"


class ClaimStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed (paid, credited or written off)"
    FINISHED = "finished", "Timeline finished"
    HANDED_OVER = "handed_over", "Handed to the foreign collection partner"
    STOPPED = "stopped", "Collection stopped on the client's request"
    RECALLED = "recalled", "Recalled from collection on the client's request"
    HELD = "held", "Held: a minor with no guardian or other payer to address"


class Claim(models.Model):
    """Where one invoice stands in its ledger's claim process. `next_on` is the day its next step is due."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="claim")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.ACTIVE)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="The last step taken; 0 before the first"
    )
    level = models.CharField(max_length=20, choices=StepKind.choices, blank=True)
    last_step_on = models.DateField(null=True, blank=True)
    deadline = models.DateField(help_text="The current deadline: the due date, then each letter's deadline")
    next_on = models.DateField(null=True, blank=True)
    reminder_fees = models.PositiveSmallIntegerField(default=0)
    last_fee_on = models.DateField(null=True, blank=True)
    collection_fees_charged = models.DecimalField(**MONEY, default=0)
    compensation_charged = models.DecimalField(**MONEY, default=0)
    interest_through = models.DateField(null=True, blank=True)
    interest_booked = models.DecimalField(**MONEY, default=0)
    pauses_counted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(interest_booked__gte=0), name="claim_interest_not_negative"),
            models.CheckConstraint(
                condition=Q(status="active") | Q(next_on__isnull=True), name="claim_inactive_has_no_next_step"
            ),
        ]
        indexes = [
            models.Index(
                fields=["ledger", "next_on"], name="claim_due_idx", condition=Q(next_on__isnull=False)
            )
        ]

    def __str__(self):
        return f"claim of invoice {self.invoice_id} at {self.level or 'due date'}"


class ClaimEventKind(models.TextChoices):
    STEP = "step", "Step taken"
    SKIPPED = "skipped", "Step skipped"
    POSTPONED = "postponed", "Postponed by a rule"
    PAUSED = "paused", "Moved by a respite or dispute"
    INTEREST = "interest", "Interest booked"
    CLOSED = "closed", "Claim closed"
    STOPPED = "stopped", "Collection stopped on the client's request"
    RECALLED = "recalled", "Recalled from collection on the client's request"
    HELD = "held", "Held: a minor with no guardian or other payer"
    RESUMED = "resumed", "Resumed: a guardian or other payer was given"


class ClaimEvent(models.Model):
    """The history of a claim: each step taken (with its fee, interest and deadline) and each change of plan."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ClaimEventKind.choices)
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    step_kind = models.CharField(max_length=20, choices=StepKind.choices, blank=True)
    booking_date = models.DateField()
    fee = models.DecimalField(**MONEY, default=0)
    interest = models.DecimalField(**MONEY, default=0)
    deadline = models.DateField(null=True, blank=True)
    next_on = models.DateField(null=True, blank=True)
    document_kind = models.CharField(max_length=24, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    fee_transaction = models.ForeignKey(
        JournalTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interest_transaction = models.ForeignKey(
        JournalTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["booking_date", "id"]
        constraints = [
            # A step is taken once per claim: a second run of the same day cannot charge it again.
            models.UniqueConstraint(
                fields=["claim", "position"], condition=Q(kind="step"), name="claim_step_taken_once"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(interest__gte=0), name="claim_event_amounts"),
        ]
        indexes = [models.Index(fields=["ledger", "booking_date"], name="claimevent_ledger_date_idx")]

    def __str__(self):
        return f"{self.kind} {self.step_kind} {self.booking_date}"


class BusinessDayRun(models.Model):
    """One business day of one ledger: what each part did. Re-running the day adds nothing new."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    summary = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date", "ledger"]

    def __str__(self):
        return f"run {self.business_date} of {self.ledger_id}"


class CallOutcomeKind(models.TextChoices):
    PROMISE_TO_PAY = "promise_to_pay", "Reached: promised to pay (a respite until then)"
    REACHED = "reached", "Reached: no promise"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class CallOutcome(models.Model):
    """What came of a call task (a CALL_TASK step of the claim process, seeds 000 section 7)."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    task = models.OneToOneField(ClaimEvent, on_delete=models.PROTECT, related_name="call_outcome")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=16, choices=CallOutcomeKind.choices)
    note = models.CharField(max_length=500, blank=True)
    promised_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="promise_to_pay") | Q(promised_until__isnull=False),
                name="call_promise_has_date",
            )
        ]

    def __str__(self):
        return f"{self.outcome} for {self.task_id}"
