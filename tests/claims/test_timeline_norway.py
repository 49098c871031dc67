"""The Norwegian default process, day by day (seeds/001 section 2.3), for a consumer and a business."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.models import Claim, ClaimStatus
from claims.services.escalation import claims_escalate
from claims.services.process import claim_settings_update
from ledger.models import InvoiceEvent, JournalTransaction, LegalEntity
from ledger.selectors import invoice_balance
from tests.claims.conftest import assert_verified, run_days, simple_interest, steps_taken
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory

pytestmark = pytest.mark.django_db

DAY0 = date(2025, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_norwegian_consumer_claim_from_invoice_to_surveillance(db):
    ledger = LedgerFactory(country="NO")
    customer = CustomerFactory(ledger=ledger)
    invoice = InvoiceFactory(customer=customer, invoice_date=DAY0, amount=Decimal("1000.00"))
    assert invoice.due_date == day(14)  # the ledger's payment terms: 14 days

    run_days(ledger, day(0), day(210))

    def interest_through(n):  # 12.50 % all through H1 and H2 2025
        return simple_interest("1000", "12.50", n - 14)

    expected_days = [
        ("sms_reminder", 17, Decimal("0")),
        ("collection_notice", 32, Decimal("35.00")),
        ("payment_demand", 50, Decimal("245.00")),  # light fee for a claim of NOK 500-1,000
        ("call_task", 54, Decimal("0")),
        ("sms_reminder", 57, Decimal("0")),
        ("call_task", 63, Decimal("0")),
        ("heavy_fee", 93, Decimal("245.00")),  # heavy = 2 x light, less the light fee charged
        ("call_task", 95, Decimal("0")),
        ("legal_notice", 97, Decimal("0")),
        ("legal_action", 115, Decimal("0")),
        ("surveillance", 205, Decimal("0")),
    ]
    taken = steps_taken(invoice)
    assert [(kind, on, fee) for kind, on, fee, _ in taken] == [
        (kind, day(n), fee) for kind, n, fee in expected_days
    ]
    # Each step books the interest accrued since the last one: the running total, rounded, less what was booked.
    booked = Decimal("0.00")
    for (kind, _on, _fee, interest), (_k, n, _f) in zip(taken, expected_days, strict=True):
        assert interest == interest_through(n) - booked, kind
        booked += interest
    assert booked == interest_through(205) == Decimal("65.41")

    balance = invoice_balance(invoice)
    assert (balance.capital, balance.fees, balance.interest) == (
        Decimal("1000.00"),
        Decimal("525.00"),
        Decimal("65.41"),
    )
    claim = Claim.objects.get(invoice=invoice)
    assert (claim.status, claim.level, claim.next_on) == (ClaimStatus.FINISHED, "surveillance", None)
    kinds = list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", flat=True))
    assert (
        "collection_notice_sent" in kinds
        and "moved_to_collection" in kinds
        and "moved_to_surveillance" in kinds
    )
    assert_verified(ledger)


def test_the_same_day_twice_books_nothing_new(db):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(31))
    first = claims_escalate(ledger=ledger, as_of=day(32))
    transactions = JournalTransaction.objects.filter(ledger=ledger).count()
    events = InvoiceEvent.objects.filter(invoice=invoice).count()

    again = claims_escalate(ledger=ledger, as_of=day(32))

    assert first["steps_taken"] == 1 and first["fees"] == "35.00"
    assert again["steps_taken"] == 0 and again["fees"] == "0.00"
    assert JournalTransaction.objects.filter(ledger=ledger).count() == transactions
    assert InvoiceEvent.objects.filter(invoice=invoice).count() == events


def test_a_missed_day_is_caught_up_without_charging_twice(db):
    ledger = LedgerFactory(country="NO")
    invoice = InvoiceFactory(customer=CustomerFactory(ledger=ledger), invoice_date=DAY0)
    run_days(ledger, day(0), day(31))
    # Days 32 to 34 are missed; day 35 catches the collection notice up.
    claims_escalate(ledger=ledger, as_of=day(35))
    claims_escalate(ledger=ledger, as_of=day(36))

    notices = [t for t in steps_taken(invoice) if t[0] == "collection_notice"]
    assert [(on, fee) for _, on, fee, _ in notices] == [(day(35), Decimal("35.00"))]
    # The deadline counts from the day the letter went out.
    assert Claim.objects.get(invoice=invoice).deadline == day(35 + 14)


def test_norwegian_business_claim_gets_the_late_fee_instead_of_reminder_and_collection_fees(db):
    ledger = LedgerFactory(country="NO")
    claim_settings_update(ledger=ledger, business_late_fee=True)
    business = CustomerFactory(ledger=ledger, legal_entity=LegalEntity.BUSINESS, national_id="")
    invoice = InvoiceFactory(customer=business, invoice_date=DAY0, amount=Decimal("20000.00"))

    run_days(ledger, day(0), day(100))

    taken = steps_taken(invoice)
    assert [(kind, on, fee) for kind, on, fee, _ in taken][:4] == [
        ("late_fee", day(15), Decimal("470.00")),
        ("sms_reminder", day(17), Decimal("0")),
        ("collection_notice", day(32), Decimal("0")),  # replaced by the late fee
        ("payment_demand", day(50), Decimal("0")),
    ]
    assert sum(fee for _, _, fee, _ in taken) == Decimal("470.00")
    assert taken[0][3] == simple_interest("20000", "12.50", 1)
    assert_verified(ledger)


def test_norwegian_business_claim_without_the_late_fee_pays_collection_fees_times_one_and_a_half(db):
    ledger = LedgerFactory(country="NO")
    business = CustomerFactory(ledger=ledger, legal_entity=LegalEntity.BUSINESS, national_id="")
    invoice = InvoiceFactory(customer=business, invoice_date=DAY0, amount=Decimal("20000.00"))

    run_days(ledger, day(0), day(93))

    fees = {kind: fee for kind, _, fee, _ in steps_taken(invoice) if fee}
    # NOK 1,120 for a claim of 10,000-50,000, times 1.5 for a business; heavy = 2 x light x 1.5 less the light.
    assert fees == {
        "collection_notice": Decimal("35.00"),
        "payment_demand": Decimal("1680.00"),
        "heavy_fee": Decimal("1680.00"),
    }


def test_a_customer_abroad_is_handed_to_the_foreign_partner_after_the_collection_notice(
    db, settings, tmp_path
):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(country="NO")
    abroad = CustomerFactory(ledger=ledger, country="DE", city="Berlin", postal_code="10115")
    invoice = InvoiceFactory(customer=abroad, invoice_date=DAY0, amount=Decimal("800.00"))

    summaries = run_days(ledger, day(0), day(80))

    assert [(kind, on) for kind, on, _, _ in steps_taken(invoice)] == [
        ("sms_reminder", day(17)),
        ("collection_notice", day(32)),
        ("foreign_handover", day(47)),  # the day after the notice's deadline; our timeline stops
    ]
    assert Claim.objects.get(invoice=invoice).status == ClaimStatus.HANDED_OVER
    name = f"FOREIGN_COLLECTION_{ledger.company_no}_20250217.json"
    assert [s["foreign_handover_file"] for s in summaries if s["foreign_handover_file"]] == [name]
    exported = json.loads(
        (settings.LEDGER_DATA_DIR / "sftp" / ledger.company_no / "outbox" / name).read_text()
    )
    assert [(c["invoice_no"], c["capital"], c["fees"], c["country"]) for c in exported["claims"]] == [
        (invoice.invoice_no, "800.00", "35.00", "DE")
    ]
