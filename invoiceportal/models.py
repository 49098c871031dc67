"""The invoice portal's own records: the client's portal rules, and what
customers asked for or did through the portal (respite requests, payments with a provider, direct
debit sign-ups). Every booking goes through the ledger's services; nothing here is a balance."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import MONEY, ConsentKind, Customer, Invoice, Ledger, Payment


class PortalSettings(models.Model):
    """The client's portal rules for one ledger; a ledger without a row gets the model's defaults."""

    ledger = models.OneToOneField(Ledger, on_delete=models.PROTECT, related_name="portal_settings")
    respite_auto_days = models.PositiveSmallIntegerField(
        default=14, help_text="a respite of up to this many days is granted at once"
    )
    respite_max_days = models.PositiveSmallIntegerField(
        default=60, help_text="longer requests are refused; between the two an operator decides"
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    contact_url = models.URLField(blank=True)

    class Meta:
        verbose_name_plural = "portal settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(respite_max_days__gte=models.F("respite_auto_days")),
                name="portalsettings_max_not_below_auto",
            )
        ]

    def __str__(self):
        return f"portal settings {self.ledger_id}"


class RespiteStatus(models.TextChoices):
    APPROVED = "approved", "Approved at once (within the client's rule)"
    PENDING = "pending", "Waiting for an operator"
    GRANTED = "granted", "Granted by an operator"
    REFUSED = "refused", "Refused by an operator"


class RespiteRequest(models.Model):
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    until = models.DateField()
    days = models.PositiveSmallIntegerField()
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=RespiteStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ledger", "status"], name="respiterequest_worklist_idx")]
        constraints = [
            # One open request per invoice: asking again while one waits changes nothing.
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status="pending"), name="respiterequest_one_pending"
            )
        ]

    def __str__(self):
        return f"respite request {self.pk} ({self.status})"


class ProviderPaymentStatus(models.TextChoices):
    STARTED = "started", "Started"
    PAID = "paid", "Paid and booked"
    CANCELLED = "cancelled", "Cancelled by the customer"
    FAILED = "failed", "Failed at the provider"


class ProviderPayment(models.Model):
    """A "pay now" hand-off to a payment provider. The money is booked as a real payment (ledger.Payment,
    bank archive reference = the provider's reference) once, when the provider confirms it."""

    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey("distribution.PortalLink", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=20)
    method = models.CharField(max_length=20, help_text="vipps, swish, card")
    provider_ref = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=ProviderPaymentStatus.choices, default=ProviderPaymentStatus.STARTED
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.provider} {self.provider_ref} ({self.status})"


class SignupStatus(models.TextChoices):
    STARTED = "started", "Started"
    IDENTIFIED = "identified", "Identified"
    SUCCESS = "success", "Registered"
    FAIL = "fail", "Failed"
    CANCEL = "cancel", "Cancelled by the customer"


class DirectDebitSignup(models.Model):
    """One run through the direct debit sign-up page; `state` is the random key in its URLs."""

    state = models.CharField(max_length=64, unique=True)
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    return_url = models.CharField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=SignupStatus.choices, default=SignupStatus.STARTED)
    national_id = models.CharField(max_length=30, blank=True, help_text="as the identity provider gave it")
    identity_provider = models.CharField(max_length=30, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bank_account = models.CharField(max_length=40, blank=True)
    amount_limit = models.DecimalField(**MONEY, null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"direct debit sign-up {self.pk} ({self.status})"


class RateCounter(models.Model):
    """Requests per client address and fixed window, counted in PostgreSQL so every web process shares
    the limit (UNLOGGED in the migration: losing counts in a crash costs nothing)."""

    key = models.CharField(max_length=80)
    window_start = models.BigIntegerField()
    requests = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="portal_ratecounter_key")]

    def __str__(self):
        return f"{self.key} {self.window_start}: {self.requests}"
