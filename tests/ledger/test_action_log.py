"""The action log's rows: masked as they are written, and never changed or removed (the database says no)."""

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import ActionLogEntry
from ledger.services.action_log import Action, action_log_record, mask_fields
from ledger.sql import read_sql
from tests.factories import LedgerFactory

pytestmark = pytest.mark.django_db


def entry(ledger) -> ActionLogEntry:
    return action_log_record(action=Action(
        request_id="r-12345678", channel="api", kind="change", method="POST", path="/api/v1/x/", status=201,
        client_id=ledger.client_id, ledger_id=ledger.pk, target={"company_no": ledger.company_no},
    ))  # fmt: skip


def test_a_row_cannot_be_changed_or_deleted():
    row = entry(LedgerFactory())
    for attempt in (
        lambda: ActionLogEntry.objects.filter(pk=row.pk).update(status=200),
        lambda: ActionLogEntry.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
    assert ActionLogEntry.objects.get(pk=row.pk).status == 201


def test_the_guard_goes_back_and_returns_with_its_migration():
    row = entry(LedgerFactory())
    with connection.cursor() as cursor:
        cursor.execute(read_sql("action_log_reverse.sql"))
        with transaction.atomic():
            ActionLogEntry.objects.filter(pk=row.pk).update(status=200)
            transaction.set_rollback(True)
        cursor.execute(read_sql("action_log.sql"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ActionLogEntry.objects.filter(pk=row.pk).update(status=200)


def test_secrets_are_never_kept_and_personal_data_only_by_its_last_four():
    masked = mask_fields({
        "password": ["hunter2hunter2"], "otp_token": ["123456"], "code": ["654321"], "csrfmiddlewaretoken": ["x"],
        "national_id": ["01019012345"], "account": ["15030000002"], "email": ["kari@example.no"],
        "name": ["Kari Nordmann"], "invoice_no": ["F-1", "F-2"],
    })  # fmt: skip
    assert masked == {
        "password": "***", "otp_token": "***", "code": "***",
        "national_id": "•••••••2345", "account": "•••••••0002", "email": "•••••••••••e.no",
        "name": "Kari Nordmann", "invoice_no": "F-1, F-2",
    }  # fmt: skip


def test_a_hostile_request_is_kept_too_nul_bytes_and_lone_surrogates_replaced():
    """Found by tests/api/test_stateful.py: a NUL in a field failed the row (PostgreSQL's jsonb refuses it)."""
    ledger = LedgerFactory()
    row = action_log_record(action=Action(
        request_id="r-12345678", channel="api", kind="change", method="POST", path="/api/v1/\x00/", status=404,
        client_id=ledger.client_id, target={"invoice_no": "A\x00\udb3f"}, params=mask_fields({"n\x00": ["x\x00y"]}),
    ))  # fmt: skip
    row.refresh_from_db()
    assert (row.path, row.target, row.params) == ("/api/v1/\ufffd/", {"invoice_no": "A\ufffd?"}, {"n\ufffd": "x\ufffdy"})
