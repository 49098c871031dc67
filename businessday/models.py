"""One business day's work shared by workers: a plan per run of the day, a chunk per ledger, each chunk
claimed by one worker with a conditional UPDATE (businessday/daily.py). The ledgers' own records of what
each part did stay in claims.BusinessDayRun."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from ledger.models import Ledger


class DayPlan(models.Model):
    business_date = models.DateField()
    parts = models.JSONField(default=list, help_text="the ledger parts this run of the day runs, in order")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"plan {self.pk} of {self.business_date}"


class ChunkStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class DayChunk(models.Model):
    plan = models.ForeignKey(DayPlan, on_delete=models.CASCADE, related_name="chunks")
    ledger = models.ForeignKey(Ledger, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=ChunkStatus.choices, default=ChunkStatus.PENDING)
    worker = models.CharField(max_length=100, blank=True, help_text="host:pid of the worker that ran it last")
    claims = models.PositiveSmallIntegerField(default=0, help_text="times claimed: more than 1 is a takeover")
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "ledger"], name="daychunk_one_per_ledger"),
            models.CheckConstraint(
                condition=models.Q(status="pending") | ~models.Q(worker=""), name="daychunk_claimed_has_worker"
            ),
        ]
        indexes = [models.Index(fields=["plan", "status"], name="daychunk_plan_status_idx")]

    def __str__(self):
        return f"chunk {self.ledger_id} of plan {self.plan_id}: {self.status}"
