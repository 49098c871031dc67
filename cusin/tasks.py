"""Celery tasks of the CUSIN app (the beat schedule is in payex_ledger/settings.py)."""

from celery import shared_task

from .inbox import inbox_scan


@shared_task(name="cusin.scan_inbox", ignore_result=True)
def scan_inbox() -> dict:
    """Import the complete files in every sFTP inbox (run every minute by Celery beat)."""
    return inbox_scan()
