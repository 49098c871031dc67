"""Direct debit: AvtaleGiro agreement files in (consents), payment-claim files out, and the attempts'
outcome: paid, or failed and retried up to three times before the reminder process takes over.

Past 500 lines: the AvtaleGiro tests share their files and fixtures (the other schemes import them).
"""

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import netsgiro
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import references as refs
from ledger.errors import LedgerError, ValidationFailed
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
from ledger.payments.direct_debit.avtalegiro import debit_agreements_import
from ledger.payments.direct_debit.claims import debit_claims_send
from ledger.payments.direct_debit.common import kid_customer_no
from ledger.payments.direct_debit.selectors import invoices_in_direct_debit
from ledger.payments.direct_debit.settlement import debit_attempts_settle
from ledger.services import outbox_files  # it writes the outbox files
from ledger.services.customers import customer_upsert
from ledger.services.respite_dispute import invoice_dispute_open
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory
from tests.helpers import book_costs, run_two_workers
from tests.ledger.test_payments_import import SAMPLES, assert_verified, book, ocr_file, pay, run

ACCOUNT = "15030000002"
SAMPLE_AGREEMENTS = SAMPLES / "ocr-giro" / "avtalegiro_agreements.txt"
SAMPLE_CLAIMS = SAMPLES / "ocr-giro" / "avtalegiro_payment_request.txt"
SAMPLE_ACCOUNT = "99991042764"
DAY = date(2026, 3, 2)  # a Monday: claims for invoices due 6-11 March go out
NEW, DELETED = netsgiro.AvtaleGiroRegistrationType.NEW_OR_UPDATED_AGREEMENT, 2


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def ledger(db):
    return LedgerFactory(
        client_funds_account=ACCOUNT, name="Inkasso Nord AS", client_name="Nordlys Energi AS"
    )


# --- helpers ----------------------------------------------------------------------------------------------


def agreement_file(agreements, *, account=ACCOUNT, number="0000001", day=DAY) -> bytes:
    """An AvtaleGiro agreement transmission as Nets sends it: (kid, notify[, registration type]) each."""
    transmission = netsgiro.Transmission(
        number=number, data_transmitter="00008080", data_recipient="00010200", date=day
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS,
        number=number,
        account=account,
    )
    for n, (kid, notify, *kind) in enumerate(agreements, 1):
        assignment.transactions.append(
            netsgiro.Agreement(
                service_code=netsgiro.ServiceCode.AVTALEGIRO,
                number=n,
                registration_type=kind[0] if kind else NEW,
                kid=kid,
                notify=notify,
            )
        )
    return (transmission.to_ocr() + "\n").encode("iso-8859-1")


def identifier(customer) -> str:
    return refs.kid_customer_identifier(customer_no=customer.customer_no)


def consenting(ledger, name="Kari Nordmann", *, notify=True, customer_no=None):
    """A customer with an active AvtaleGiro consent set by a CUSIN payment rule (UseBKAGNO = 1)."""
    customer = CustomerFactory(
        ledger=ledger, name=name, **({"customer_no": customer_no} if customer_no else {})
    )
    customer_upsert(
        ledger=ledger, customer_no=customer.customer_no, name=name, consents={ConsentKind.AVTALEGIRO_NO: True}
    )
    CustomerConsent.objects.filter(customer=customer).update(notify_payer=notify)
    return customer


def invoice(customer, due, amount="1000.00", **kwargs):
    return InvoiceFactory(
        customer=customer,
        invoice_date=due - timedelta(days=14),
        due_date=due,
        amount=Decimal(amount),
        **kwargs,
    )


def consent_of(customer):
    return CustomerConsent.objects.filter(customer=customer, kind=ConsentKind.AVTALEGIRO_NO).first()


def event_kinds(customer):
    return list(CustomerEvent.objects.filter(customer=customer).values_list("kind", flat=True))


def invoice_events(inv, *kinds):
    qs = InvoiceEvent.objects.filter(invoice=inv).order_by("created_at", "id")
    return list(qs.filter(kind__in=kinds) if kinds else qs)


def attempts(inv):
    return list(
        DirectDebitAttempt.objects.filter(invoice=inv)
        .order_by("attempt_no")
        .values_list("attempt_no", "status", "amount", "due_date")
    )


def outbox(ledger) -> list[str]:
    return sorted(p.name for p in company_dir(ledger.company_no, "outbox").iterdir())


def read_claims(ledger, name):
    """The claim file as Nets reads it: raw lines, the records and the transmission (all via netsgiro)."""
    data = (company_dir(ledger.company_no, "outbox") / name).read_bytes()
    text = data.decode("iso-8859-1")
    lines = text.splitlines()
    records = netsgiro.records.parse(text)
    return lines, records, netsgiro.parse(text)


# --- agreement files in ---------------------------------------------------------------------------------


def test_the_real_sample_agreement_file_imports(db):
    data = SAMPLE_AGREEMENTS.read_bytes()
    assert (
        hashlib.sha256(data).hexdigest() == "d2c751fe881272bf39775c47d3295752b3189a40282b1a000bae2336b410d5cd"
    )
    ledger = LedgerFactory(client_funds_account=SAMPLE_ACCOUNT)
    kids = [a.kid for a in netsgiro.parse(data.decode("iso-8859-1")).assignments[0].transactions]
    # KIDs of 15 digits: customer number, 4-digit serial, check digit (e.g. 0001120005 0715 5)
    customers = {kid: CustomerFactory(ledger=ledger, customer_no=kid_customer_no(kid)) for kid in kids}
    assert customers[kids[0]].customer_no == "1120005"

    summary = debit_agreements_import(data=data, file_name="avtalegiro_agreements.txt", booking_date=DAY)

    assert {k: summary[k] for k in ("status", "ledger", "kind", "agreements", "activated", "errors")} == {
        "status": "accepted",
        "ledger": ledger.company_no,
        "kind": "avtalegiro_no",
        "agreements": 16,
        "activated": 16,
        "errors": [],
    }
    assert (summary["cancelled"], summary["changed"], summary["unchanged"]) == (0, 0, 0)
    consents = CustomerConsent.objects.filter(ledger=ledger, kind=ConsentKind.AVTALEGIRO_NO, active=True)
    assert consents.count() == 16
    assert (consents.filter(notify_payer=True).count(), consents.filter(notify_payer=False).count()) == (
        11,
        5,
    )
    assert consent_of(customers["001006300507304"]).notify_payer is False  # the sample's N
    events = CustomerEvent.objects.filter(ledger=ledger)
    assert events.count() == 16
    first = events.get(customer=customers[kids[0]])
    assert (first.kind, first.reason, first.booking_date, first.actor) == (
        "consent_activated",
        "avtalegiro_agreements.txt",
        DAY,
        "bank",
    )
    assert first.new_value == {"consent": "avtalegiro_no", "kid": kids[0], "notify_payer": True}
    row = DebitAgreementFile.objects.get(pk=summary["agreement_file"])
    assert (row.ledger, row.status, row.size, row.digest) == (
        ledger,
        "accepted",
        1620,
        hashlib.sha256(data).hexdigest(),
    )

    # the same file again changes nothing
    again = debit_agreements_import(data=data, file_name="copy.txt", booking_date=DAY + timedelta(days=1))
    assert again["status"] == "duplicate"
    assert again["duplicate_of"] == {"agreement_file": row.pk, "file": "avtalegiro_agreements.txt"}
    assert (again["activated"], CustomerEvent.objects.filter(ledger=ledger).count()) == (0, 16)
    assert set(consents.values_list("changed_on", flat=True)) == {DAY}


def test_the_command_imports_a_file_and_exits_1_when_it_is_rejected(ledger, tmp_path):
    customer = CustomerFactory(ledger=ledger)
    path = tmp_path / "AG-0001.txt"
    path.write_bytes(agreement_file([(identifier(customer), True)]))
    code, out = run("import_debit_agreements", str(path), "--date", "2026-03-02")
    assert (code, out["status"], out["ledger"], out["activated"], out["file"]) == (
        0,
        "accepted",
        ledger.company_no,
        1,
        "AG-0001.txt",
    )
    assert consent_of(customer).active

    code, out = run("import_debit_agreements", str(SAMPLE_CLAIMS), "--ledger", ledger.company_no)
    assert (code, out["status"], out["errors"][0]["code"]) == (1, "rejected", "not_an_agreement_file")
    assert out["errors"][0]["line"] == 2
    code, out = run("import_debit_agreements", str(tmp_path / "missing.txt"))
    assert (code, out["error"]["code"]) == (1, "usage")


def test_agreements_activate_change_and_cancel_consents_with_customer_events(ledger):
    kari = CustomerFactory(ledger=ledger, customer_no="1001")
    ola = consenting(ledger, "Ola Nordmann", notify=False)  # already active from a CUSIN payment rule
    per = CustomerFactory(ledger=ledger, customer_no="0001234")  # leading zeros kept in the number

    first = debit_agreements_import(
        data=agreement_file([(identifier(kari), True), (identifier(ola), False), (identifier(per), False)]),
        file_name="AG-1.txt",
        booking_date=DAY,
    )
    assert (first["activated"], first["unchanged"], first["errors"]) == (2, 1, [])
    assert (consent_of(kari).active, consent_of(kari).notify_payer, consent_of(kari).source) == (
        True,
        True,
        "AvtaleGiro AG-1.txt",
    )
    assert (consent_of(per).active, consent_of(per).notify_payer) == (True, False)

    later = DAY + timedelta(days=3)
    second = debit_agreements_import(
        data=agreement_file(
            [(identifier(kari), True, DELETED), (identifier(ola), True), (identifier(per), False, DELETED)],
            number="0000002",
        ),
        file_name="AG-2.txt",
        booking_date=later,
    )
    assert (second["cancelled"], second["changed"], second["activated"]) == (2, 1, 0)
    assert (consent_of(kari).active, consent_of(kari).changed_on) == (False, later)
    assert (consent_of(ola).active, consent_of(ola).notify_payer) == (True, True)
    assert not consent_of(per).active
    assert event_kinds(kari) == ["consent_activated", "consent_cancelled"]
    assert event_kinds(ola)[-1] == "consent_changed"
    changed = CustomerEvent.objects.filter(customer=ola, kind="consent_changed").get()
    assert (changed.old_value, changed.new_value["notify_payer"], changed.reason) == (
        {"consent": "avtalegiro_no", "notify_payer": False},
        True,
        "AG-2.txt",
    )

    # a deleted agreement without a consent, then a new agreement again
    third = debit_agreements_import(
        data=agreement_file(
            [(identifier(kari), False, DELETED), (identifier(kari), False)], number="0000003"
        ),
        file_name="AG-3.txt",
        booking_date=later,
    )
    assert (third["unchanged"], third["activated"]) == (1, 1)
    assert (consent_of(kari).active, consent_of(kari).notify_payer) == (True, False)
    assert event_kinds(kari) == ["consent_activated", "consent_cancelled", "consent_activated"]


def test_unknown_and_invalid_kids_are_listed_and_the_rest_is_booked(ledger):
    kari = CustomerFactory(ledger=ledger)
    ola = CustomerFactory(ledger=ledger)
    ola_invoice = InvoiceFactory(customer=ola)  # an invoice KID (serial 0001) names its customer too
    unknown = refs.kid_customer_identifier(customer_no="7654321")
    bad = identifier(kari)[:-1] + str((int(identifier(kari)[-1]) + 1) % 10)

    summary = debit_agreements_import(
        data=agreement_file(
            [(identifier(kari), True), (unknown, True), (bad, False), (ola_invoice.payment_ref, True)]
        ),
        file_name="AG.txt",
        booking_date=DAY,
    )
    assert (summary["status"], summary["agreements"], summary["activated"]) == ("accepted", 4, 2)
    assert [(e["code"], e["line"], e["transaction_no"], e["kid"]) for e in summary["errors"]] == [
        ("invalid_kid", 5, 3, bad),
        ("unknown_kid", 4, 2, unknown),
    ]
    assert "7654321" in summary["errors"][1]["message"]
    assert consent_of(kari).active and consent_of(ola).active
    assert CustomerConsent.objects.filter(ledger=ledger).count() == 2


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (
            lambda data: data.replace(b"NY212488000000010000000300", b"NY212488000000020000000400"),
            "control_totals",
        ),
        (lambda data: b"\n".join(data.split(b"\n")[:-2]) + b"\n", "malformed"),
        (lambda data: data.replace(b"NY212420", b"NY210020"), "not_an_agreement_file"),
        (lambda data: data.replace(b"NY21947000000011", b"NY21947000000011X"), "malformed"),
        (lambda data: b"", "malformed"),
    ],
)
def test_a_broken_file_is_rejected_whole(ledger, mutate, code):
    customer = CustomerFactory(ledger=ledger)
    summary = debit_agreements_import(
        data=mutate(agreement_file([(identifier(customer), True)])), file_name="AG.txt"
    )
    assert (summary["status"], summary["errors"][0]["code"]) == ("rejected", code)
    assert not CustomerConsent.objects.exists()
    assert DebitAgreementFile.objects.get().status == "rejected"


def test_the_ledger_is_found_by_account_or_company_no(ledger):
    customer = CustomerFactory(ledger=ledger)
    data = agreement_file([(identifier(customer), True)], account="15030000999")
    assert debit_agreements_import(data=data, file_name="a.txt")["errors"][0]["code"] == "unknown_account"
    assert (
        debit_agreements_import(data=data, file_name="a.txt", company_no=ledger.company_no)["activated"] == 1
    )

    other = LedgerFactory(client_funds_account="1503.00.00010")
    data = agreement_file([(identifier(customer), True)], account="15030000010")
    summary = debit_agreements_import(data=data, file_name="b.txt", company_no=ledger.company_no)
    assert summary["errors"][0]["code"] == "account_of_another_ledger"
    assert debit_agreements_import(data=data, file_name="b.txt")["ledger"] == other.company_no

    swedish = LedgerFactory(country="SE", client_funds_account="15030000003")
    data = agreement_file([(identifier(customer), True)], account="15030000003")
    assert debit_agreements_import(data=data, file_name="c.txt")["errors"][0]["code"] == "wrong_country"
    assert swedish.country == "SE"


# --- claims out ------------------------------------------------------------------------------------------


def test_claims_go_out_for_consenting_customers_within_the_window(ledger):
    kari = consenting(ledger, "Kari Nordmann", notify=True)
    ola = consenting(ledger, "Ola Nordmann", notify=False)
    nils = CustomerFactory(ledger=ledger)  # no consent
    gone = consenting(ledger, "Per Hansen")
    CustomerConsent.objects.filter(customer=gone).update(active=False)

    last_day = invoice(kari, DAY + timedelta(days=9), "1000.00")  # 11 March: the window's last day
    first_day = invoice(kari, DAY + timedelta(days=4), "250.50")  # 6 March: the first day Nets accepts
    partly = invoice(ola, DAY + timedelta(days=6), "99.90")
    book(ocr_file([pay(partly.payment_ref, "9.90", "000000001")]), name="pay.txt")  # 90.00 left
    too_far = invoice(kari, DAY + timedelta(days=10))
    too_late = invoice(kari, DAY + timedelta(days=3))
    disputed = invoice(kari, DAY + timedelta(days=5))
    invoice_dispute_open(invoice=disputed, actor="kari", reason="Wrong meter reading", booking_date=DAY)
    not_consenting = invoice(nils, DAY + timedelta(days=6))
    cancelled = invoice(gone, DAY + timedelta(days=6))

    summary = debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")

    name = f"AVTALEGIRO_{ledger.company_no}_20260302_1.txt"
    assert summary == {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": "avtalegiro_no",
        "supported": True,
        "as_of": "2026-03-02",
        "file": name,
        "claims": 3,
        "first_attempts": 3,
        "retries": 0,
        "total": "1340.50",
        "currency": "NOK",
        "skipped": [],
    }
    assert outbox(ledger) == [name]
    for inv, amount in ((first_day, "250.50"), (partly, "90.00"), (last_day, "1000.00")):
        assert attempts(inv) == [(1, "sent", Decimal(amount), inv.due_date)]
        (event,) = invoice_events(inv, "direct_debit_sent")
        assert (event.booking_date, event.actor, event.from_status, event.to_status) == (
            DAY,
            "ops",
            "open",
            "open",
        )
        assert event.reason == (
            f"Direct debit attempt 1 of 3: {amount} NOK, debit date {inv.due_date}, KID {inv.payment_ref}, file {name}"
        )
    for inv in (too_far, too_late, disputed, not_consenting, cancelled):
        assert attempts(inv) == []
    claim_file = DirectDebitClaimFile.objects.get()
    assert (claim_file.file_name, claim_file.count, claim_file.total, claim_file.as_of, claim_file.actor) == (
        name,
        3,
        Decimal("1340.50"),
        DAY,
        "ops",
    )
    assert set(DirectDebitAttempt.objects.values_list("claim_file", flat=True)) == {claim_file.id}

    # the file, as netsgiro reads it
    lines, records, transmission = read_claims(ledger, name)
    assert all(len(line) == 80 for line in lines)
    assert transmission.number == claim_file.transmission_number
    assert transmission.data_recipient == "00008080"
    (assignment,) = transmission.assignments
    assert (assignment.service_code, assignment.type, assignment.account) == (
        netsgiro.ServiceCode.AVTALEGIRO,
        netsgiro.AssignmentType.TRANSACTIONS,
        ACCOUNT,
    )
    got = [(t.kid, t.amount, t.date, int(t.type), t.payer_name) for t in assignment.transactions]
    assert got == [
        (first_day.payment_ref, Decimal("250.50"), date(2026, 3, 6), 21, "Kari Nordm"),
        (partly.payment_ref, Decimal("90.00"), date(2026, 3, 8), 2, "Ola Nordma"),
        (last_day.payment_ref, Decimal("1000.00"), date(2026, 3, 11), 21, "Kari Nordm"),
    ]
    assert [t.reference for t in assignment.transactions] == [
        f"Faktura {i.invoice_no}" for i in (first_day, partly, last_day)
    ]
    notice = assignment.transactions[0].text.splitlines()
    assert notice[0].rstrip() == f"Gjelder faktura {first_day.invoice_no} datert 20.02.2026"
    assert notice[1].rstrip() == "fra Nordlys Energi AS"
    assert notice[2].rstrip() == "Beløp 250.50 NOK trekkes 06.03.2026 (AvtaleGiro)"
    assert assignment.transactions[1].text == ""  # the payee notifies: no bank notice
    assignment_end, transmission_end = records[-2], records[-1]
    assert (assignment_end.num_transactions, assignment_end.num_records, assignment_end.total_amount) == (
        3,
        len(lines) - 2,
        134050,
    )
    assert (assignment_end.nets_date_1, assignment_end.nets_date_2) == (date(2026, 3, 6), date(2026, 3, 11))
    assert (
        transmission_end.num_transactions,
        transmission_end.num_records,
        transmission_end.total_amount,
    ) == (
        3,
        len(lines),
        134050,
    )
    assert sum(t.amount for t in assignment.transactions) == Decimal("1340.50")
    assert_verified(ledger)


def test_sending_twice_claims_nothing_twice(ledger):
    kari = consenting(ledger)
    inv = invoice(kari, DAY + timedelta(days=8))
    assert debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")["claims"] == 1
    again = debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert (again["claims"], again["file"]) == (0, None)
    assert debit_claims_send(ledger=ledger, as_of=DAY + timedelta(days=1), actor="ops")["claims"] == 0
    assert len(attempts(inv)) == 1
    assert len(outbox(ledger)) == 1
    # a second file on the same day gets the next number
    later = invoice(kari, DAY + timedelta(days=9), "10.00")
    assert debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")["file"] == (
        f"AVTALEGIRO_{ledger.company_no}_20260302_2.txt"
    )
    assert attempts(later) == [(1, "sent", Decimal("10.00"), later.due_date)]


def test_an_invoice_whose_reference_is_no_kid_is_skipped_and_reported(ledger):
    kari = consenting(ledger)
    good, bad = invoice(kari, DAY + timedelta(days=8)), invoice(kari, DAY + timedelta(days=8))
    type(bad).objects.filter(pk=bad.pk).update(payment_ref="12345678901")  # wrong check digit
    summary = debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert summary["claims"] == 1
    assert [(s["invoice_no"], s["attempt_no"], s["code"]) for s in summary["skipped"]] == [
        (bad.invoice_no, 1, "invalid_kid")
    ]
    assert (len(attempts(good)), attempts(bad)) == (1, [])


def test_a_failure_while_writing_the_file_leaves_nothing_recorded(ledger, monkeypatch):
    kari = consenting(ledger)
    inv = invoice(kari, DAY + timedelta(days=8))

    def broken(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_files, "write_atomic", broken)
    with pytest.raises(LedgerError) as excinfo:
        debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert excinfo.value.code == "outbox_write_failed"
    assert not DirectDebitAttempt.objects.exists()
    assert not DirectDebitClaimFile.objects.exists()
    assert invoice_events(inv, "direct_debit_sent") == []
    assert outbox(ledger) == []

    monkeypatch.undo()
    assert debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")["claims"] == 1
    assert len(attempts(inv)) == 1


def test_a_ledger_without_a_usable_account_sends_nothing(ledger):
    invoice(consenting(ledger), DAY + timedelta(days=8))
    ledger.client_funds_account = "NO93 8601 1117 947"  # an IBAN is fine: its BBAN is the account
    ledger.save(update_fields=["client_funds_account"])
    summary = debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert read_claims(ledger, summary["file"])[2].assignments[0].account == "86011117947"

    invoice(consenting(ledger, "Ola"), DAY + timedelta(days=9))
    ledger.client_funds_account = "SE4550000000058398257466"
    ledger.save(update_fields=["client_funds_account"])
    with pytest.raises(ValidationFailed) as excinfo:
        debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert excinfo.value.code == "invalid_bank_account"
    assert DirectDebitAttempt.objects.count() == 1


def test_countries_without_direct_debit_are_not_supported(db):
    finnish = LedgerFactory(country="FI")
    summary = debit_claims_send(ledger=finnish, as_of=DAY, actor="ops")
    assert (summary["ok"], summary["supported"], summary["kind"], summary["claims"]) == (True, False, None, 0)
    assert "not supported yet" in summary["note"]


# --- outcome: paid, failed, retried, handed to the reminders ----------------------------------------------------


def test_a_paid_attempt_settles_as_paid(ledger):
    kari = consenting(ledger)
    paid = invoice(kari, DAY + timedelta(days=8), "500.00")
    partly = invoice(kari, DAY + timedelta(days=8), "300.00")
    debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    due = DAY + timedelta(days=8)
    book(
        ocr_file(
            [pay(paid.payment_ref, "500.00", "000000011"), pay(partly.payment_ref, "100.00", "000000012")],
            day=due,
        ),
        name="ag-paid.txt",
    )

    summary = debit_attempts_settle(ledger=ledger, as_of=due + timedelta(days=1), actor="ops")
    assert (summary["paid"], summary["failed"], summary["failures"]) == (1, 0, [])
    (attempt,) = DirectDebitAttempt.objects.filter(invoice=paid)
    assert (attempt.status, attempt.settled_on, attempt.reason) == (
        "paid",
        due + timedelta(days=1),
        "Invoice closed",
    )
    assert attempt.settled_at is not None
    assert attempts(partly) == [
        (1, "sent", Decimal("300.00"), due)
    ]  # not paid in full: waits for the debit date
    assert debit_attempts_settle(ledger=ledger, as_of=due + timedelta(days=2), actor="ops")["failed"] == 0
    third_day = debit_attempts_settle(ledger=ledger, as_of=due + timedelta(days=3), actor="ops")
    assert third_day["failures"] == [
        {
            "invoice_no": partly.invoice_no,
            "attempt_no": 1,
            "amount": "300.00",
            "due_date": due.isoformat(),
            "final": False,
        }
    ]
    assert invoice_events(paid, "direct_debit_failed") == []


def test_failed_debits_are_retried_up_to_three_times_then_the_reminders_take_over(ledger):
    kari = consenting(ledger)
    inv = invoice(kari, date(2026, 3, 11), "1000.00")
    assert debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")["claims"] == 1
    assert list(invoices_in_direct_debit(ledger=ledger)) == [inv]

    # 13 March is the second day after the debit date: still waiting for the payment
    assert debit_attempts_settle(ledger=ledger, as_of=date(2026, 3, 13), actor="ops")["failed"] == 0
    first = debit_attempts_settle(ledger=ledger, as_of=date(2026, 3, 14), actor="ops")
    assert (first["failed"], first["exhausted"]) == (1, 0)
    assert list(invoices_in_direct_debit(ledger=ledger)) == [inv]  # waiting for the retry
    retry = debit_claims_send(ledger=ledger, as_of=date(2026, 3, 14), actor="ops")
    assert (retry["claims"], retry["first_attempts"], retry["retries"], retry["total"]) == (
        1,
        0,
        1,
        "1000.00",
    )
    assert attempts(inv) == [
        (1, "failed", Decimal("1000.00"), date(2026, 3, 11)),
        (2, "sent", Decimal("1000.00"), date(2026, 3, 23)),  # as_of + 9 days
    ]
    lines, records, transmission = read_claims(ledger, retry["file"])
    assert [(t.kid, t.date) for t in transmission.assignments[0].transactions] == [
        (inv.payment_ref, date(2026, 3, 23))
    ]

    # a fee booked in between is claimed too (what is open now)
    book_costs(inv, fee=Decimal("35.00"), day=date(2026, 3, 20))
    assert debit_attempts_settle(ledger=ledger, as_of=date(2026, 3, 26), actor="ops")["failed"] == 1
    assert debit_claims_send(ledger=ledger, as_of=date(2026, 3, 26), actor="ops")["total"] == "1035.00"
    assert attempts(inv)[-1] == (3, "sent", Decimal("1035.00"), date(2026, 4, 4))

    last = debit_attempts_settle(ledger=ledger, as_of=date(2026, 4, 7), actor="ops")
    assert (last["failed"], last["exhausted"]) == (1, 1)
    assert last["failures"][0]["final"] is True
    assert debit_claims_send(ledger=ledger, as_of=date(2026, 4, 7), actor="ops")["claims"] == 0
    assert debit_claims_send(ledger=ledger, as_of=date(2026, 5, 7), actor="ops")["claims"] == 0
    assert [a[1] for a in attempts(inv)] == ["failed", "failed", "failed"]
    assert list(invoices_in_direct_debit(ledger=ledger)) == []

    kinds = [e.kind for e in invoice_events(inv) if e.kind.startswith("direct_debit")]
    assert kinds == [
        "direct_debit_sent",
        "direct_debit_failed",
        "direct_debit_sent",
        "direct_debit_failed",
        "direct_debit_sent",
        "direct_debit_failed",
        "direct_debit_exhausted",
    ]
    failed, exhausted = invoice_events(inv, "direct_debit_failed", "direct_debit_exhausted")[-2:]
    assert failed.reason == "Direct debit attempt 3 of 3 failed: 1035.00 NOK, debit date 2026-04-04"
    assert (exhausted.reason, exhausted.booking_date, exhausted.actor) == (
        "3 direct debit attempts failed: the reminder process takes over",
        date(2026, 4, 7),
        "ops",
    )
    # settling again the same day changes nothing
    assert debit_attempts_settle(ledger=ledger, as_of=date(2026, 4, 7), actor="ops")["failed"] == 0
    assert len(invoice_events(inv, "direct_debit_exhausted")) == 1


def test_no_retry_without_an_active_consent_or_an_open_invoice(ledger):
    kari, ola = consenting(ledger, "Kari"), consenting(ledger, "Ola")
    kari_inv, ola_inv = invoice(kari, date(2026, 3, 10)), invoice(ola, date(2026, 3, 10))
    debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    assert debit_attempts_settle(ledger=ledger, as_of=date(2026, 3, 13), actor="ops")["failed"] == 2
    CustomerConsent.objects.filter(customer=kari).update(active=False)
    invoice_dispute_open(invoice=ola_inv, actor="ops", reason="Complaint", booking_date=date(2026, 3, 13))
    assert debit_claims_send(ledger=ledger, as_of=date(2026, 3, 13), actor="ops")["claims"] == 0
    assert (len(attempts(kari_inv)), len(attempts(ola_inv))) == (1, 1)


def test_the_database_refuses_a_fourth_attempt_and_two_open_ones(ledger):
    kari = consenting(ledger)
    inv = invoice(kari, date(2026, 3, 10))
    debit_claims_send(ledger=ledger, as_of=DAY, actor="ops")
    attempt = DirectDebitAttempt.objects.get()
    settled = {"status": "failed", "settled_on": DAY, "settled_at": timezone.now()}
    for changes in ({"attempt_no": 2}, {"attempt_no": 4, **settled}):
        values = {
            f.attname: getattr(attempt, f.attname)
            for f in DirectDebitAttempt._meta.concrete_fields
            if not f.primary_key
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            DirectDebitAttempt.objects.create(**{**values, **changes})
    with pytest.raises(IntegrityError), transaction.atomic():
        DirectDebitAttempt.objects.filter(pk=attempt.pk).update(status="paid")  # settled without a date
    assert len(attempts(inv)) == 1


# --- two workers, and the command ---------------------------------------------------------------------------


def test_two_workers_never_claim_the_same_invoice_twice(transactional_db, monkeypatch):
    ledger = LedgerFactory(client_funds_account=ACCOUNT)
    kari = consenting(ledger)
    invoices = [invoice(kari, DAY + timedelta(days=5)), invoice(kari, DAY + timedelta(days=6))]
    results, errors = run_two_workers(
        outbox_files, lambda: debit_claims_send(ledger=ledger, as_of=DAY, actor="w"), monkeypatch
    )

    assert errors == []
    assert (results["first"]["claims"], results["second"]["claims"]) == (2, 0)
    assert [len(attempts(i)) for i in invoices] == [1, 1]
    assert outbox(ledger) == [results["first"]["file"]]


def test_send_debit_claims_settles_then_sends(ledger):
    kari = consenting(ledger)
    inv = invoice(kari, date(2026, 3, 10))
    swedish = LedgerFactory(country="SE")
    sven = CustomerFactory(ledger=swedish, national_id="198112289874")
    customer_upsert(
        ledger=swedish, customer_no=sven.customer_no, name="Sven", consents={ConsentKind.AUTOGIRO_SE: True}
    )
    LedgerFactory()  # no consents: not visited

    code, out = run("send_debit_claims", "--date", "2026-03-02")
    assert (code, out["ok"], out["files"], out["claims"], out["failed"]) == (0, True, 1, 1, 0)
    by_ledger = {r["ledger"]: r for r in out["ledgers"]}
    assert set(by_ledger) == {ledger.company_no, swedish.company_no}
    mine = by_ledger[ledger.company_no]
    assert (mine["ok"], mine["sent"]["claims"], mine["settled"]["paid"]) == (True, 1, 0)
    assert (by_ledger[swedish.company_no]["sent"]["claims"], by_ledger[swedish.company_no]["ok"]) == (0, True)
    assert DirectDebitAttempt.objects.get().actor == "send_debit_claims"

    code, out = run("send_debit_claims", "--date", "2026-03-13", "--ledger", ledger.company_no)
    assert (code, out["failed"], out["claims"]) == (0, 1, 1)  # failed, and retried in the same run
    assert [a[:2] for a in attempts(inv)] == [(1, "failed"), (2, "sent")]

    code, out = run("send_debit_claims", "--date", "13.03.2026")
    assert (code, out["error"]["code"]) == (1, "usage")
    code, out = run("send_debit_claims", "--date", "2026-03-13", "--ledger", "123456")
    assert (code, out["error"]["code"]) == (1, "ledger_not_found")
