"""Every CUSIN file we read, and the batches of it we booked.

A file is booked in batches, each committed with its CusinBatch row, so a crash mid-file can be
re-run: batches already booked are skipped and the receipt is rebuilt from the batch rows.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import MONEY, Ledger


class FileStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    ACCEPTED = "accepted", "Accepted"
    PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted"
    REJECTED = "rejected", "Rejected"


class CusinFile(models.Model):
    ledger = models.ForeignKey(
        Ledger, null=True, blank=True, on_delete=models.PROTECT, related_name="cusin_files"
    )
    company_no = models.CharField(max_length=20, help_text="from the file name or header, as received")
    file_name = models.CharField(max_length=255)
    serial = models.BigIntegerField(null=True, blank=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the content")
    size = models.BigIntegerField()
    source = models.CharField(max_length=20, default="cli")
    status = models.CharField(max_length=20, choices=FileStatus.choices, default=FileStatus.PROCESSING)
    passed_xsd_validation = models.BooleanField(default=False)
    receipt = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A rejected file booked nothing, so its content and serial may come again.
            models.UniqueConstraint(
                fields=["ledger", "digest"],
                condition=~Q(status=FileStatus.REJECTED),
                name="cusin_file_digest_once",
            ),
            models.UniqueConstraint(
                fields=["ledger", "serial"],
                condition=~Q(status=FileStatus.REJECTED),
                name="cusin_file_serial_once",
            ),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.status})"


class CusinBatch(models.Model):
    file = models.ForeignKey(CusinFile, on_delete=models.PROTECT, related_name="batches")
    batch_no = models.PositiveIntegerField()
    customers = models.PositiveIntegerField()
    invoices = models.PositiveIntegerField()
    failed_customers = models.PositiveIntegerField()
    failed_invoices = models.PositiveIntegerField()
    credits = models.PositiveIntegerField(default=0)
    failed_credits = models.PositiveIntegerField(default=0)
    total_invoice_amount = models.DecimalField(**MONEY)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "CUSIN batches"
        constraints = [models.UniqueConstraint(fields=["file", "batch_no"], name="cusin_batch_once")]
        ordering = ["file", "batch_no"]

    def __str__(self):
        return f"{self.file_id}#{self.batch_no}"
