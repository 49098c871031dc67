import json
from io import StringIO

import pytest
from django.core.management import call_command

from claims.models import ClaimEvent
from ledger.models import Invoice, InvoiceStatus, JournalTransaction, Ledger, User
from ledger.selectors import ledger_verify
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


def run_demo():
    out = StringIO()
    call_command("demo", "--date", "2026-11-24", stdout=out)
    return json.loads(out.getvalue())


def test_demo_loads_two_ledgers_users_and_invoices_and_is_idempotent(db, data_dir):
    first = run_demo()
    assert [ledger["company_no"] for ledger in first["ledgers"]] == ["9999", "8888"]
    assert all(ledger["invoices_created"] == 24 + 5 for ledger in first["ledgers"])
    assert first["login"]["username"] == "operator"
    operator = User.objects.get(username="operator")
    assert operator.check_password(first["login"]["password"])
    assert operator.client.ledgers.count() == 2
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert {
        InvoiceStatus.OPEN,
        InvoiceStatus.CLOSED,
        InvoiceStatus.DISPUTED,
        InvoiceStatus.RESPITE,
    } <= statuses

    assert [(f["status"], f["errors"]) for f in first["cusin_files"]] == [
        ("accepted", 0),
        ("accepted", 0),
        ("partially_accepted", 3),
    ]
    archive = data_dir / "sftp" / "9999" / "archive"
    assert len(list(archive.glob("CUSIN_9999_*.xml"))) == 3
    assert len(list((data_dir / "sftp" / "9999" / "outbox").glob("*_receipt.xml"))) == 3

    bank = first["bank_file"]
    assert (
        bank["status"],
        bank["payments"],
        bank["matched"],
        bank["partially_paid"],
        bank["overpaid"],
        bank["double_paid"],
        bank["unidentified"],
    ) == ("accepted", 7, 3, 1, 1, 1, 1)
    assert Invoice.objects.get(invoice_no="NO-10020").status == InvoiceStatus.CLOSED
    assert Invoice.objects.get(invoice_no="NO-10021").status == InvoiceStatus.OPEN

    # Weeks of business days took the claims through every level of the process.
    assert first["business_days_run"] > 28
    steps = set(ClaimEvent.objects.filter(kind="step").values_list("step_kind", flat=True))
    assert {"sms_reminder", "collection_notice", "reminder", "payment_demand", "call_task", "heavy_fee",
            "legal_notice", "legal_action", "surveillance"} <= steps  # fmt: skip
    assert {"collection_notice", "payment_demand", "surveillance"} <= set(first["claims_by_level"])

    # Each of the last four weeks' days left its accounting files, and the weeks their Balance Reports.
    outbox = data_dir / "sftp" / "9999" / "outbox"
    assert len(list(outbox.glob("SIE4_9999_*.si"))) >= 20
    assert list(outbox.glob("BALANCEREPORT_9999_*.xml"))

    transactions = JournalTransaction.objects.count()
    second = run_demo()
    assert second["business_days_run"] == 0
    assert second["bank_file"]["status"] == "duplicate"
    assert all(ledger["invoices_created"] == 0 for ledger in second["ledgers"])
    assert second["cusin_files"] == first["cusin_files"]
    assert JournalTransaction.objects.count() == transactions
    assert Invoice.objects.count() == 58 + 6
    for ledger in Ledger.objects.all():
        assert all(check["ok"] for check in ledger_verify(ledger=ledger))


def test_the_admin_is_for_our_staff_only_and_lists_every_model(db, client):
    """Client operators work in 360; the Django admin opens only for our own staff, signed in there."""
    from django.contrib import admin

    run_demo()
    operator = User.objects.get(username="operator")
    sign_in(client, operator)
    assert client.get("/admin/ledger/invoice/", follow=True).status_code == 403

    client.logout()
    assert client.get("/admin/").status_code == 302  # nobody signed in: to the 360 sign-in

    sign_in(client, User.objects.get(username="admin"))
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, (opts.label, response.status_code)
    assert b"NO-10001" in client.get("/admin/ledger/invoice/?q=NO-10001").content
