"""Direct debit in Sweden (Autogiro) and Denmark (Betalingsservice) through the same functions as
AvtaleGiro, and cancelling claims whose invoice was settled otherwise before the debit date.

Past 500 lines: two schemes through the same functions, sharing the AvtaleGiro tests' helpers.
"""

from datetime import date, timedelta
from decimal import Decimal

import netsgiro
import pytest
from django.db import IntegrityError, transaction

from ledger.errors import LedgerError
from ledger.models import (
    ConsentKind,
    CustomerConsent,
    CustomerEvent,
    DebitAgreementFile,
    DirectDebitAttempt,
    DirectDebitClaimFile,
    InvoiceEvent,
)
from ledger.outbox import company_dir
from ledger.payments.bankfiles import autogiro, betalingsservice
from ledger.payments.direct_debit.avtalegiro import debit_agreements_import
from ledger.payments.direct_debit.claims import debit_claims_send
from ledger.payments.direct_debit.selectors import invoices_in_direct_debit
from ledger.payments.direct_debit.settlement import debit_attempts_settle, debit_claims_cancel
from ledger.services import outbox_files  # it writes the outbox files
from ledger.services.customers import customer_upsert
from ledger.services.invoice_changes import invoice_credit, invoice_write_off
from tests.factories import CustomerFactory, LedgerFactory
from tests.helpers import run_two_workers
from tests.ledger.test_direct_debit import ACCOUNT, consenting, invoice, invoice_events, read_claims
from tests.ledger.test_payments_import import assert_verified, book, ocr_file, pay, run

DAY = date(2026, 3, 2)
BANKGIRO = "5050-1055"
PNR = "198112289874"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    settings.BANKGIROT_CUSTOMER_NUMBER = "123456"
    settings.NETS_BS_CVR, settings.NETS_BS_PBS_NO = "12345678", "87654321"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def swedish(db):
    return LedgerFactory(country="SE", client_funds_account=BANKGIRO, name="Inkasso Syd AB")


@pytest.fixture
def danish(db):
    return LedgerFactory(country="DK", name="Inkasso Danmark ApS")


def attempts(inv):
    return list(
        DirectDebitAttempt.objects.filter(invoice=inv)
        .order_by("attempt_no")
        .values_list("attempt_no", "status", "amount", "due_date")
    )


def outbox(ledger) -> list[str]:
    return sorted(p.name for p in company_dir(ledger.company_no, "outbox").iterdir())


def outbox_bytes(ledger, name) -> bytes:
    return (company_dir(ledger.company_no, "outbox") / name).read_bytes()


def sven(ledger, national_id=PNR, name="Sven Svensson"):
    """A customer whose Autogiro consent came from a CUSIN payment rule (UseBGAGSE = 1)."""
    customer = CustomerFactory(ledger=ledger, name=name, national_id=national_id)
    customer_upsert(
        ledger=ledger,
        customer_no=customer.customer_no,
        name=name,
        national_id=national_id,
        consents={ConsentKind.AUTOGIRO_SE: True},
    )
    return customer


def import_file(data, name="bank.txt", **kwargs):
    return debit_agreements_import(data=data, file_name=name, booking_date=kwargs.pop("day", DAY), **kwargs)


def results_file(items, day=DAY):
    """Bankgirot's payment specification for (invoice, debit date, result code) each."""
    return autogiro.payment_results_file(
        day=day,
        customer_number="123456",
        bankgiro=BANKGIRO,
        results=[
            (
                autogiro.PaymentRequest(
                    payer_number=PNR, amount=inv_amount, debit_date=due, reference=inv.payment_ref
                ),
                code,
            )
            for inv, inv_amount, due, code in items
        ],
    )


# --- Autogiro ------------------------------------------------------------------------------------------------


def test_autogiro_claims_go_to_the_outbox_as_a_bankgirot_request_file(swedish):
    customer = sven(swedish)
    first = invoice(customer, DAY + timedelta(days=5), "1250.00")
    second = invoice(customer, DAY + timedelta(days=9), "99.90")
    invoice(customer, DAY + timedelta(days=1))  # too soon for Bankgirot: left to the ordinary process
    nameless = CustomerFactory(ledger=swedish, national_id="")
    customer_upsert(
        ledger=swedish, customer_no=nameless.customer_no, name="X", consents={ConsentKind.AUTOGIRO_SE: True}
    )
    no_payer = invoice(nameless, DAY + timedelta(days=6))

    summary = debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    name = f"AUTOGIRO_{swedish.company_no}_20260302_1.txt"
    assert (summary["kind"], summary["file"], summary["claims"], summary["total"], summary["currency"]) == (
        "autogiro_se",
        name,
        2,
        "1349.90",
        "SEK",
    )
    assert [(s["invoice_no"], s["code"]) for s in summary["skipped"]] == [
        (no_payer.invoice_no, "not_claimable")
    ]
    assert outbox(swedish) == [name]
    parsed = autogiro.parse_payment_requests(outbox_bytes(swedish, name))
    assert (parsed.write_date, parsed.customer_number, parsed.bankgiro) == (DAY, "123456", "50501055")
    assert [(r.payer_number, r.amount, r.debit_date, r.reference) for r in parsed.requests] == [
        (PNR, Decimal("1250.00"), first.due_date, first.payment_ref),
        (PNR, Decimal("99.90"), second.due_date, second.payment_ref),
    ]
    (event,) = invoice_events(first, "direct_debit_sent")
    assert event.reason == (
        f"Direct debit attempt 1 of 3: 1250.00 SEK, debit date {first.due_date}, reference "
        f"{first.payment_ref}, file {name}"
    )
    assert DirectDebitAttempt.objects.get(invoice=first).payer_ref == PNR
    # the same day again: nothing twice
    assert debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")["claims"] == 0
    assert outbox(swedish) == [name]


def test_an_autogiro_ledger_needs_a_bankgiro_number_and_writes_nothing_without_one(swedish):
    inv = invoice(sven(swedish), DAY + timedelta(days=5))
    swedish.client_funds_account = "SE4550000000058398257466"
    swedish.save(update_fields=["client_funds_account"])
    with pytest.raises(LedgerError) as excinfo:
        debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    assert excinfo.value.code == "invalid_bank_account"
    assert (attempts(inv), outbox(swedish), DirectDebitClaimFile.objects.count()) == ([], [], 0)


def test_bankgirot_mandate_notices_activate_and_cancel_autogiro_consents(swedish):
    anna = CustomerFactory(ledger=swedish, name="Anna", national_id="8112289874")  # without the century
    bo = sven(swedish, national_id="197001011233", name="Bo")
    data = autogiro.mandate_notices_file(
        day=DAY,
        customer_number="123456",
        bankgiro=BANKGIRO,
        mandates=[("198112289874", "198112289874", "32"), ("197001011233", "", "02"), ("999", "", "32")],
    )
    summary = import_file(data, name="medavi.txt")
    assert (summary["status"], summary["kind"], summary["ledger"]) == (
        "accepted",
        "autogiro_se",
        swedish.company_no,
    )
    assert (summary["agreements"], summary["activated"], summary["cancelled"]) == (3, 1, 1)
    assert [(e["code"], e["line"]) for e in summary["errors"]] == [("unknown_payer", 4)]
    consent = CustomerConsent.objects.get(customer=anna, kind=ConsentKind.AUTOGIRO_SE)
    assert (consent.active, consent.bank_ref, consent.changed_on) == (True, "198112289874", DAY)
    assert not CustomerConsent.objects.get(customer=bo, kind=ConsentKind.AUTOGIRO_SE).active
    event = CustomerEvent.objects.get(customer=bo, kind="consent_cancelled")
    assert event.reason == "medavi.txt: 02 cancelled by the payer or the payer's bank"

    again = import_file(data, name="medavi-again.txt")
    assert again["status"] == "duplicate"
    assert CustomerEvent.objects.filter(kind__startswith="consent").count() == 2 + 1  # bo's CUSIN activation


def test_a_broken_bankgirot_file_is_rejected_whole_and_books_nothing(swedish):
    customer = CustomerFactory(ledger=swedish, national_id=PNR)
    records = autogiro.mandate_notices_file(
        day=DAY, customer_number="123456", bankgiro=BANKGIRO, mandates=[(PNR, PNR, "32"), ("5", "", "32")]
    ).splitlines()
    broken = b"\n".join([*records[:2], records[3]]) + b"\n"  # the closing record says 2
    summary = import_file(broken)
    assert (summary["status"], summary["errors"][0]["code"], summary["errors"][0]["line"]) == (
        "rejected",
        "record_count_mismatch",
        3,
    )
    assert not CustomerConsent.objects.filter(customer=customer).exists()
    assert DebitAgreementFile.objects.get().status == "rejected"

    other = LedgerFactory(country="SE", client_funds_account="123-4567")
    summary = import_file(b"\n".join(records) + b"\n", company_no=other.company_no)
    assert (summary["status"], summary["errors"][0]["code"]) == ("rejected", "account_of_another_ledger")
    norwegian = LedgerFactory(client_funds_account="5050-1056")
    wrong = autogiro.mandate_notices_file(
        day=DAY, customer_number="123456", bankgiro="5050-1056", mandates=[(PNR, PNR, "32")]
    )
    assert import_file(wrong)["errors"][0]["code"] == "wrong_country"
    assert norwegian.pk and not CustomerConsent.objects.filter(customer=customer).exists()


def test_autogiro_results_fail_debits_at_once_retry_and_hand_over_to_the_reminders(swedish):
    customer = sven(swedish)
    inv = invoice(customer, date(2026, 3, 10), "500.00")
    paid = invoice(customer, date(2026, 3, 10), "300.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")

    summary = import_file(
        results_file(
            [(inv, Decimal("500.00"), inv.due_date, "1"), (paid, Decimal("300.00"), paid.due_date, "0")]
        ),
        name="betspec-1.txt",
        day=date(2026, 3, 10),
    )
    assert (summary["status"], summary["results"], summary["failed"], summary["approved"]) == (
        "accepted",
        2,
        1,
        1,
    )
    assert attempts(inv) == [(1, "failed", Decimal("500.00"), date(2026, 3, 10))]
    failed = DirectDebitAttempt.objects.get(invoice=inv)
    assert (failed.reason, failed.bank_outcome, failed.settled_on) == (
        "Bankgirot: 1 insufficient funds (täckning saknas)",
        "failed",
        date(2026, 3, 10),
    )
    (event,) = invoice_events(inv, "direct_debit_failed")
    assert event.reason == (
        "Direct debit attempt 1 of 3 failed: 500.00 SEK, debit date 2026-03-10 "
        "(Bankgirot: 1 insufficient funds (täckning saknas))"
    )
    # the approved debit is booked from the result (tests/ledger/test_direct_debit_booking.py)
    approved = DirectDebitAttempt.objects.get(invoice=paid)
    assert (approved.status, approved.bank_outcome, approved.payment.amount) == (
        "paid",
        "approved",
        Decimal("300.00"),
    )
    assert debit_attempts_settle(ledger=swedish, as_of=date(2026, 3, 20), actor="ops")["failed"] == 0
    assert set(invoices_in_direct_debit(ledger=swedish)) == {inv}

    # the next attempts fail too; the third hands the invoice to the reminders
    for n, day in ((2, date(2026, 3, 20)), (3, date(2026, 3, 30))):
        sent = debit_claims_send(ledger=swedish, as_of=day, actor="ops")
        assert (sent["retries"], sent["claims"]) == (1, 1)
        due = day + timedelta(days=9)
        assert attempts(inv)[-1] == (n, "sent", Decimal("500.00"), due)
        result = import_file(
            results_file([(inv, Decimal("500.00"), due, "2")]), name=f"betspec-{n}.txt", day=due
        )
        assert (result["failed"], result["exhausted"]) == (1, 1 if n == 3 else 0)
    assert [a[1] for a in attempts(inv)] == ["failed"] * 3
    assert debit_claims_send(ledger=swedish, as_of=date(2026, 4, 20), actor="ops")["claims"] == 0
    assert len(invoice_events(inv, "direct_debit_exhausted")) == 1
    assert list(invoices_in_direct_debit(ledger=swedish)) == []

    # a result for a debit we never claimed is listed, the rest still books
    stray = import_file(
        results_file([(inv, Decimal("1.00"), date(2026, 3, 10), "0")]), name="betspec-stray.txt", day=DAY
    )
    assert (stray["status"], [e["code"] for e in stray["errors"]]) == ("accepted", ["unknown_debit"])


# --- Betalingsservice -------------------------------------------------------------------------------------------


def test_betalingsservice_agreements_claims_and_results(danish):
    jens = CustomerFactory(ledger=danish, customer_no="4711", name="Jens Jensen")
    mette = CustomerFactory(ledger=danish, customer_no="815", name="Mette")
    agreements = betalingsservice.information_delivery(
        cvr="12345678",
        pbs_no="87654321",
        debtor_group="00001",
        day=DAY,
        agreements=[("0231", "4711", "123456789"), ("0231", "815", "0"), ("0231", "999", "1")],
    )
    summary = import_file(agreements, name="bs-agreements.txt", company_no=danish.company_no)
    assert (summary["status"], summary["kind"], summary["activated"]) == (
        "accepted",
        "betalingsservice_dk",
        2,
    )
    assert [e["code"] for e in summary["errors"]] == ["unknown_payer"]
    assert CustomerConsent.objects.get(customer=jens).bank_ref == "123456789"

    jens_inv = invoice(jens, date(2026, 3, 10), "499.95")
    mette_inv = invoice(mette, date(2026, 3, 11), "100.00")
    sent = debit_claims_send(ledger=danish, as_of=DAY, actor="ops")
    name = f"BETALINGSSERVICE_{danish.company_no}_20260302_1.txt"
    assert (sent["file"], sent["claims"], sent["total"], sent["currency"]) == (name, 2, "599.95", "DKK")
    delivery = betalingsservice.parse_delivery(outbox_bytes(danish, name))
    assert delivery.pbs_numbers == ("87654321",)
    assert [
        (p.customer_no, p.agreement_no, p.amount, p.debit_date, p.reference) for p in delivery.payments
    ] == [
        ("4711", "123456789", Decimal("499.95"), date(2026, 3, 10), jens_inv.payment_ref),
        ("815", "0", Decimal("100.00"), date(2026, 3, 11), mette_inv.payment_ref),
    ]

    def collection(inv, customer_no, amount):
        return betalingsservice.Collection(
            customer_no=customer_no,
            agreement_no="",
            amount=Decimal(amount),
            debit_date=inv.due_date,
            reference=inv.payment_ref,
        )

    results = betalingsservice.information_delivery(
        cvr="12345678",
        pbs_no="87654321",
        debtor_group="00001",
        day=date(2026, 3, 11),
        agreements=[("0232", "815", "0")],
        payments=[
            ("0236", collection(jens_inv, "4711", "499.95")),
            ("0237", collection(mette_inv, "815", "100.00")),
        ],
    )
    summary = import_file(results, name="bs-results.txt", company_no=danish.company_no, day=date(2026, 3, 11))
    assert (summary["cancelled"], summary["approved"], summary["failed"]) == (1, 1, 1)
    assert attempts(mette_inv)[0][1] == "failed"
    assert DirectDebitAttempt.objects.get(invoice=mette_inv).reason == "Nets: 0237 payment rejected"
    assert not CustomerConsent.objects.get(customer=mette).active
    # no consent any more: no retry
    assert debit_claims_send(ledger=danish, as_of=date(2026, 3, 12), actor="ops")["claims"] == 0

    no_ledger = import_file(results, name="bs-results.txt")
    assert (no_ledger["status"], no_ledger["errors"][0]["code"]) == ("rejected", "ledger_required")
    own = import_file(outbox_bytes(danish, name), name=name, company_no=danish.company_no)
    assert (own["status"], own["errors"][0]["code"]) == ("rejected", "not_a_result_file")


# --- Cancelling claims settled otherwise ----------------------------------------------------------------------


@pytest.fixture
def norwegian(db):
    return LedgerFactory(
        client_funds_account=ACCOUNT, name="Inkasso Nord AS", client_name="Nordlys Energi AS"
    )


def test_avtalegiro_claims_paid_credited_or_written_off_before_the_debit_date_are_cancelled_once(norwegian):
    kari = consenting(norwegian)
    paid = invoice(kari, DAY + timedelta(days=8), "500.00")
    credited = invoice(kari, DAY + timedelta(days=8), "300.00")
    written_off = invoice(kari, DAY + timedelta(days=9), "200.00")
    still_open = invoice(kari, DAY + timedelta(days=9), "100.00")
    claims = debit_claims_send(ledger=norwegian, as_of=DAY, actor="ops")
    assert claims["claims"] == 4

    book(ocr_file([pay(paid.payment_ref, "500.00", "000000021")], day=DAY + timedelta(days=2)), name="p.txt")
    invoice_credit(
        invoice=credited, actor="ops", reason="Wrong meter reading", booking_date=DAY + timedelta(days=2)
    )
    invoice_write_off(
        invoice=written_off, cause="Deceased", actor="ops", booking_date=DAY + timedelta(days=2)
    )

    # settling first changes nothing: before the debit date a settled invoice is a claim to cancel
    assert debit_attempts_settle(ledger=norwegian, as_of=DAY + timedelta(days=3), actor="ops")["paid"] == 0
    summary = debit_claims_cancel(ledger=norwegian, as_of=DAY + timedelta(days=3), actor="ops")
    name = f"AVTALEGIRO_CANCEL_{norwegian.company_no}_20260305_1.txt"
    assert (summary["file"], summary["cancelled"], summary["total"]) == (name, 3, "1000.00")

    lines, records, transmission = read_claims(norwegian, name)
    (assignment,) = transmission.assignments
    assert assignment.type == netsgiro.AssignmentType.AVTALEGIRO_CANCELLATIONS
    assert [(t.type, t.kid, t.amount, t.date) for t in assignment.transactions] == [
        (netsgiro.TransactionType.AVTALEGIRO_CANCELLATION, inv.payment_ref, Decimal(a), inv.due_date)
        for inv, a in ((paid, "500.00"), (credited, "300.00"), (written_off, "200.00"))
    ]
    for inv in (paid, credited, written_off):
        (attempt,) = DirectDebitAttempt.objects.filter(invoice=inv)
        assert (attempt.status, attempt.cancel_file.file_name, attempt.settled_on) == (
            "cancelled",
            name,
            DAY + timedelta(days=3),
        )
        (event,) = invoice_events(inv, "direct_debit_cancelled")
        assert event.reason.startswith("Direct debit attempt 1 cancelled before the debit date")
        assert name in event.reason
    assert attempts(still_open)[0][1] == "sent"

    # once: the next run finds nothing to cancel and writes nothing
    again = debit_claims_cancel(ledger=norwegian, as_of=DAY + timedelta(days=3), actor="ops")
    assert (again["cancelled"], again["file"]) == (0, None)
    assert outbox(norwegian) == sorted([claims["file"], name])
    assert DirectDebitClaimFile.objects.filter(purpose="cancellations").count() == 1
    # the cancelled claims are not retried, and after the debit date the open one fails as usual
    assert debit_attempts_settle(ledger=norwegian, as_of=date(2026, 3, 14), actor="ops")["failed"] == 1
    assert debit_claims_send(ledger=norwegian, as_of=date(2026, 3, 14), actor="ops")["claims"] == 1
    assert_verified(norwegian)


def test_a_claim_paid_after_its_debit_date_is_not_cancelled_but_settles_as_paid(norwegian):
    inv = invoice(consenting(norwegian), DAY + timedelta(days=8), "500.00")
    debit_claims_send(ledger=norwegian, as_of=DAY, actor="ops")
    book(ocr_file([pay(inv.payment_ref, "500.00", "000000031")], day=inv.due_date), name="p.txt")
    assert debit_claims_cancel(ledger=norwegian, as_of=inv.due_date, actor="ops")["cancelled"] == 0
    assert debit_attempts_settle(ledger=norwegian, as_of=inv.due_date, actor="ops")["paid"] == 1


def test_autogiro_claims_are_cancelled_with_tk23_records(swedish):
    customer = sven(swedish)
    inv = invoice(customer, DAY + timedelta(days=6), "750.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    invoice_credit(invoice=inv, actor="ops", reason="Goodwill", booking_date=DAY + timedelta(days=1))
    summary = debit_claims_cancel(ledger=swedish, as_of=DAY + timedelta(days=1), actor="ops")
    parsed = autogiro.parse_payment_requests(outbox_bytes(swedish, summary["file"]))
    assert parsed.requests == ()
    assert [(c.payer_number, c.amount, c.debit_date, c.reference) for c in parsed.cancellations] == [
        (PNR, Decimal("750.00"), inv.due_date, inv.payment_ref)
    ]
    assert attempts(inv)[0][1] == "cancelled"


def test_betalingsservice_claims_are_reported_not_cancelled(danish):
    jens = CustomerFactory(ledger=danish, customer_no="4711")
    CustomerConsent.objects.create(
        ledger=danish, customer=jens, kind=ConsentKind.BETALINGSSERVICE_DK, changed_on=DAY, bank_ref="1"
    )
    inv = invoice(jens, DAY + timedelta(days=6), "100.00")
    debit_claims_send(ledger=danish, as_of=DAY, actor="ops")
    invoice_credit(invoice=inv, actor="ops", reason="Goodwill", booking_date=DAY + timedelta(days=1))
    summary = debit_claims_cancel(ledger=danish, as_of=DAY + timedelta(days=1), actor="ops")
    assert (summary["cancelled"], summary["file"], [n["invoice_no"] for n in summary["not_cancellable"]]) == (
        0,
        None,
        [inv.invoice_no],
    )
    assert attempts(inv)[0][1] == "sent"


def test_a_failure_while_writing_the_cancellation_leaves_nothing_recorded(norwegian, monkeypatch):
    inv = invoice(consenting(norwegian), DAY + timedelta(days=8), "500.00")
    debit_claims_send(ledger=norwegian, as_of=DAY, actor="ops")
    invoice_credit(invoice=inv, actor="ops", reason="Wrong", booking_date=DAY)

    def broken(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_files, "write_atomic", broken)
    with pytest.raises(LedgerError) as excinfo:
        debit_claims_cancel(ledger=norwegian, as_of=DAY, actor="ops")
    assert excinfo.value.code == "outbox_write_failed"
    assert attempts(inv)[0][1] == "sent"
    assert invoice_events(inv, "direct_debit_cancelled") == []
    assert DirectDebitClaimFile.objects.filter(purpose="cancellations").count() == 0
    monkeypatch.undo()
    assert debit_claims_cancel(ledger=norwegian, as_of=DAY, actor="ops")["cancelled"] == 1


def test_the_database_requires_a_cancelled_attempt_to_name_its_cancellation_file(norwegian):
    inv = invoice(consenting(norwegian), DAY + timedelta(days=8))
    debit_claims_send(ledger=norwegian, as_of=DAY, actor="ops")
    attempt = DirectDebitAttempt.objects.get(invoice=inv)
    with pytest.raises(IntegrityError), transaction.atomic():
        DirectDebitAttempt.objects.filter(pk=attempt.pk).update(
            status="cancelled", settled_on=DAY, settled_at=attempt.created_at
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        DirectDebitAttempt.objects.filter(pk=attempt.pk).update(cancel_file=attempt.claim_file)


def test_two_workers_never_cancel_the_same_claim_twice(transactional_db, monkeypatch):
    ledger = LedgerFactory(client_funds_account=ACCOUNT)
    kari = consenting(ledger)
    invoices = [invoice(kari, DAY + timedelta(days=6)), invoice(kari, DAY + timedelta(days=7))]
    debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    for inv in invoices:
        invoice_credit(invoice=inv, actor="ops", reason="Wrong", booking_date=DAY)
    results, errors = run_two_workers(
        outbox_files, lambda: debit_claims_cancel(ledger=ledger, as_of=DAY, actor="w"), monkeypatch
    )
    assert errors == []
    assert (results["first"]["cancelled"], results["second"]["cancelled"]) == (2, 0)
    assert InvoiceEvent.objects.filter(kind="direct_debit_cancelled").count() == 2


def test_send_debit_claims_cancels_settles_and_sends_for_every_scheme(norwegian, swedish):
    kari = consenting(norwegian)
    credited = invoice(kari, date(2026, 3, 10))
    inv_se = invoice(sven(swedish), date(2026, 3, 10))
    code, out = run("send_debit_claims", "--date", "2026-03-02")
    assert (code, out["files"], out["claims"], out["cancelled"]) == (0, 2, 2, 0)
    invoice_credit(invoice=credited, actor="ops", reason="Wrong", booking_date=date(2026, 3, 3))
    code, out = run("send_debit_claims", "--date", "2026-03-03")
    assert (code, out["cancelled"], out["claims"]) == (0, 1, 0)
    assert attempts(credited)[0][1] == "cancelled" and attempts(inv_se)[0][1] == "sent"

    data = results_file([(inv_se, Decimal("1000.00"), inv_se.due_date, "1")])
    path = company_dir(swedish.company_no, "inbox") / "betspec.txt"
    path.write_bytes(data)
    code, out = run("import_debit_agreements", str(path), "--date", "2026-03-10")
    assert (code, out["status"], out["failed"]) == (0, "accepted", 1)
    path.write_bytes(data[:-82])  # the closing record cut off
    code, out = run("import_debit_agreements", str(path))
    assert (code, out["status"]) == (1, "rejected")
    assert attempts(inv_se) == [(1, "failed", Decimal("1000.00"), inv_se.due_date)]
    assert DebitAgreementFile.objects.filter(status="rejected").count() == 1


def test_a_renewed_autogiro_debit_is_noted_then_settled_by_its_later_result(swedish):
    inv = invoice(sven(swedish), date(2026, 3, 10), "500.00")
    debit_claims_send(ledger=swedish, as_of=DAY, actor="ops")
    renewed = import_file(results_file([(inv, Decimal("500.00"), inv.due_date, "9")]), name="b1.txt")
    assert (renewed["renewed"], renewed["failed"]) == (1, 0)
    attempt = DirectDebitAttempt.objects.get(invoice=inv)
    assert (attempt.status, attempt.bank_outcome) == ("sent", "renewed")
    # Bankgirot reports the renewed debit under the next banking day: it is the same claim
    later = import_file(results_file([(inv, Decimal("500.00"), date(2026, 3, 11), "1")]), name="b2.txt")
    assert (later["failed"], later["errors"]) == (1, [])
    assert attempts(inv) == [(1, "failed", Decimal("500.00"), date(2026, 3, 10))]
    # the same result in another file changes nothing more
    again = import_file(
        results_file([(inv, Decimal("500.00"), date(2026, 3, 11), "1")], day=date(2026, 3, 12))
    )
    assert (again["status"], again["failed"], again["unchanged"]) == ("accepted", 0, 1)
    assert len(invoice_events(inv, "direct_debit_failed")) == 1


def test_a_broken_nets_delivery_is_rejected_whole_and_changes_nothing(danish):
    jens = CustomerFactory(ledger=danish, customer_no="4711")
    data = betalingsservice.information_delivery(
        cvr="12345678",
        pbs_no="87654321",
        debtor_group="00001",
        day=DAY,
        agreements=[("0231", "4711", "1"), ("0231", "4711", "2")],
    )
    records = data.decode("iso-8859-1").splitlines()
    broken = ("\n".join([*records[:3], *records[4:]]) + "\n").encode("iso-8859-1")  # one agreement lost
    summary = import_file(broken, company_no=danish.company_no)
    assert (summary["status"], summary["errors"][0]["code"]) == ("rejected", "control_total_mismatch")
    assert not CustomerConsent.objects.filter(customer=jens).exists()
    assert not CustomerEvent.objects.filter(customer=jens, kind__startswith="consent").exists()


def test_two_workers_never_send_the_same_autogiro_claim_twice(transactional_db, monkeypatch):
    ledger = LedgerFactory(country="SE", client_funds_account=BANKGIRO)
    customer = sven(ledger)
    invoices = [invoice(customer, DAY + timedelta(days=5)), invoice(customer, DAY + timedelta(days=6))]
    results, errors = run_two_workers(
        outbox_files, lambda: debit_claims_send(ledger=ledger, as_of=DAY, actor="w"), monkeypatch
    )
    assert errors == []
    assert (results["first"]["claims"], results["second"]["claims"]) == (2, 0)
    assert [len(attempts(i)) for i in invoices] == [1, 1]
    assert outbox(ledger) == [results["first"]["file"]]
