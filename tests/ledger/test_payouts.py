"""Sending payouts: payouts_send and send_payouts write one pain.001.001.03 file per ledger to its outbox,
valid against the official schema, claim each payout once, and on any failure leave every payout pending
and no file behind."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xmlschema
from lxml import etree

from ledger.errors import LedgerError, ValidationFailed
from ledger.models import Payment, Payout, PayoutBatch, PendingOutboxFile
from ledger.outbox import company_dir
from ledger.payments import payouts as payouts_module
from ledger.payments.payouts import payouts_send
from ledger.payments.refunds import customer_credit_refund, payment_refund
from ledger.services import outbox_files as outbox_files_module
from tests.factories import CustomerFactory, InvoiceFactory
from tests.helpers import run_two_workers
from tests.ledger.test_payments_import import (
    ACCOUNT,
    assert_verified,
    book,
    ledger_with_account,
    ocr_file,
    pay,
    run,
    stray_kid,
)

XSD = Path(__file__).resolve().parents[2] / "xsd" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
DAY = date(2026, 3, 5)
SEND_DAY = date(2026, 3, 6)
PAYER_IBAN = "NO9386011117947"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def ledger(db):
    ledger = ledger_with_account(name="Inkasso Nord AS", client_name="Nordlys Energi AS")
    ledger.settle_surplus_against_oldest = False
    ledger.save(update_fields=["settle_surplus_against_oldest"])
    return ledger


def credit_refund(
    ledger, *, account=ACCOUNT, archive_ref="000000013", booking_date=DAY, reason="Customer asked"
):
    """A customer overpays 100.00 by 75.25 and gets 75.00 back to the account paid from (a BBAN)."""
    customer = CustomerFactory(ledger=ledger, name="Kari Nordmann")
    invoice = InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    book(
        ocr_file([pay(invoice.payment_ref, "175.25", archive_ref)], account=account, number=archive_ref[-7:]),
        name=f"{archive_ref}.txt",
    )
    return customer_credit_refund(
        customer=customer, amount=Decimal("75.00"), actor="kari", reason=reason, booking_date=booking_date
    )


def payment_refund_to_iban(archive_ref="000000901", amount="99.90"):
    """An unidentified payment from Ola, paid back in full to his IBAN."""
    book(
        ocr_file([pay(stray_kid(int(archive_ref)), amount, archive_ref)], number=archive_ref[-7:]),
        name=f"{archive_ref}.txt",
    )
    payment = Payment.objects.get(bank_archive_ref__startswith=archive_ref)
    Payment.objects.filter(pk=payment.pk).update(payer_name="Ola Nordmann")
    payment.refresh_from_db()
    return payment_refund(
        payment=payment, actor="kari", reason="Not our customer", bank_account=PAYER_IBAN, booking_date=DAY
    )


def outbox_files(ledger) -> list[str]:
    """What the bank can fetch (a hidden name is a file not yet published)."""
    return sorted(p.name for p in company_dir(ledger.company_no, "outbox").iterdir() if not p.name.startswith("."))


def parse_valid(path: Path) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    schema = etree.XMLSchema(etree.parse(str(XSD), parser))
    document = etree.parse(str(path), parser)
    schema.assertValid(document)
    return document


def texts(node, path: str) -> list[str]:
    return [e.text for e in node.findall(path, NS)]


def text(node, path: str) -> str:
    (value,) = texts(node, path)
    return value


def statuses(*payouts) -> list[tuple]:
    return [
        (p.status, p.batch_id) for p in Payout.objects.filter(pk__in=[p.pk for p in payouts]).order_by("pk")
    ]


def test_the_schema_is_the_official_file_unchanged():
    """Copied byte for byte from the sepaxml 2.7.0 wheel (see xsd/README.md); it also compiles in xmlschema."""
    digest = hashlib.sha256(XSD.read_bytes()).hexdigest()
    assert digest == "ed4be42522e3e35b108b3ad2ebbcc65da987cddbf6cfdc20828cd4fd0d69c51a"
    assert xmlschema.XMLSchema(str(XSD)).target_namespace == NS["p"]


# --- one file, valid, with the right contents -------------------------------------------------------


def test_a_credit_refund_and_a_payment_refund_go_out_in_one_valid_pain001(ledger):
    credit = credit_refund(ledger, reason="Refund of overpayment " + "x" * 200)
    refund = payment_refund_to_iban()

    summary = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")

    batch = PayoutBatch.objects.get()
    message_id = f"PAYOUT-{ledger.company_no}-20260306-{batch.id}"
    assert summary == {
        "ok": True,
        "ledger": ledger.company_no,
        "file": f"{message_id}.xml",
        "message_id": message_id,
        "payouts": 2,
        "total": Decimal("174.90"),
        "currency": "NOK",
    }
    assert (batch.ledger, batch.file_name, batch.message_id, batch.execution_date) == (
        ledger,
        f"{message_id}.xml",
        message_id,
        SEND_DAY,
    )
    assert (batch.count, batch.total, batch.currency, batch.actor) == (2, Decimal("174.90"), "NOK", "kari")
    assert statuses(credit, refund) == [("sent", batch.id), ("sent", batch.id)]
    assert outbox_files(ledger) == [f"{message_id}.xml"]

    path = company_dir(ledger.company_no, "outbox") / f"{message_id}.xml"
    document = parse_valid(path)
    xmlschema.XMLSchema(str(XSD)).validate(str(path))  # a second validator agrees
    root = document.getroot()
    assert root.tag == "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}Document"
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert text(header, "p:MsgId") == message_id
    created = datetime.fromisoformat(text(header, "p:CreDtTm"))
    assert created == batch.created_at.replace(microsecond=0)
    assert created.utcoffset() == batch.created_at.astimezone(ZoneInfo("Europe/Oslo")).utcoffset()
    assert (text(header, "p:NbOfTxs"), text(header, "p:CtrlSum")) == ("2", "174.90")
    assert text(header, "p:InitgPty/p:Nm") == "Nordlys Energi AS"

    (info,) = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert text(info, "p:PmtMtd") == "TRF"
    assert (text(info, "p:NbOfTxs"), text(info, "p:CtrlSum")) == ("2", "174.90")
    assert text(info, "p:ReqdExctnDt") == "2026-03-06"
    assert text(info, "p:Dbtr/p:Nm") == "Inkasso Nord AS"
    assert text(info, "p:DbtrAcct/p:Id/p:Othr/p:Id") == ACCOUNT  # the client-funds account
    assert text(info, "p:DbtrAcct/p:Id/p:Othr/p:SchmeNm/p:Cd") == "BBAN"
    assert text(info, "p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"

    first, second = info.findall("p:CdtTrfTxInf", NS)
    assert text(first, "p:PmtId/p:EndToEndId") == f"PAYOUT-{credit.id}"
    assert text(first, "p:Amt/p:InstdAmt") == "75.00"
    assert first.find("p:Amt/p:InstdAmt", NS).get("Ccy") == "NOK"
    assert text(first, "p:Cdtr/p:Nm") == "Kari Nordmann"
    assert text(first, "p:CdtrAcct/p:Id/p:Othr/p:Id") == "12345678903"
    assert text(first, "p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Cd") == "BBAN"
    remittance = text(first, "p:RmtInf/p:Ustrd")
    assert len(remittance) == 140 and remittance.startswith("Refund of overpayment xxx")

    assert text(second, "p:PmtId/p:EndToEndId") == f"PAYOUT-{refund.id}"
    assert text(second, "p:Amt/p:InstdAmt") == "99.90"
    assert text(second, "p:Cdtr/p:Nm") == "Ola Nordmann"  # the payer: no customer
    assert text(second, "p:CdtrAcct/p:Id/p:IBAN") == PAYER_IBAN
    assert texts(second, "p:CdtrAcct/p:Id/p:Othr") == []
    assert text(second, "p:RmtInf/p:Ustrd") == "Not our customer"
    assert sum(Decimal(a) for a in texts(info, "p:CdtTrfTxInf/p:Amt/p:InstdAmt")) == Decimal("174.90")
    assert_verified(ledger)


def test_an_iban_client_funds_account_is_the_debtor_iban(ledger):
    payout = credit_refund(ledger)
    ledger.client_funds_account = "NO93 8601 1117 947"  # as an operator may type it
    ledger.save(update_fields=["client_funds_account"])
    summary = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    document = parse_valid(company_dir(ledger.company_no, "outbox") / summary["file"])
    assert text(document.getroot(), "p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAcct/p:Id/p:IBAN") == PAYER_IBAN
    assert statuses(payout) == [("sent", PayoutBatch.objects.get().id)]


# --- once only ------------------------------------------------------------------------------------


def test_sending_again_sends_nothing_and_writes_no_file(ledger):
    credit_refund(ledger)
    first = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    before = outbox_files(ledger)
    assert before == [first["file"]]

    assert payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari") == {"ok": True, "payouts": 0}
    assert outbox_files(ledger) == before
    assert PayoutBatch.objects.count() == 1

    # A later payout goes in a new file of its own.
    later = payment_refund_to_iban()
    second = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert (second["payouts"], second["total"]) == (1, Decimal("99.90"))
    assert second["message_id"] != first["message_id"]
    assert outbox_files(ledger) == sorted([first["file"], second["file"]])
    assert statuses(later) == [("sent", PayoutBatch.objects.get(message_id=second["message_id"]).id)]


def test_a_ledger_without_pending_payouts_writes_nothing(ledger):
    assert payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari") == {"ok": True, "payouts": 0}
    assert outbox_files(ledger) == []
    assert not PayoutBatch.objects.exists()


def test_payouts_of_another_ledger_are_untouched(ledger):
    mine = credit_refund(ledger)
    other_ledger = ledger_with_account("15030000010")
    theirs = credit_refund(other_ledger, account="15030000010", archive_ref="000000014")

    summary = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")

    assert summary["payouts"] == 1
    assert statuses(mine) == [("sent", PayoutBatch.objects.get().id)]
    assert statuses(theirs) == [("pending", None)]
    assert outbox_files(other_ledger) == []
    assert PayoutBatch.objects.get().ledger == ledger


def test_a_payout_booked_after_the_execution_date_waits(ledger):
    early = credit_refund(ledger)
    late = credit_refund(ledger, archive_ref="000000015", booking_date=date(2026, 3, 9))
    summary = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert (summary["payouts"], summary["total"]) == (1, Decimal("75.00"))
    assert statuses(early, late) == [("sent", PayoutBatch.objects.get().id), ("pending", None)]


# --- failures leave everything pending -------------------------------------------------------------


def assert_nothing_sent(ledger, *payouts):
    assert statuses(*payouts) == [("pending", None)] * len(payouts)
    assert not PayoutBatch.objects.exists()
    assert list(company_dir(ledger.company_no, "outbox").iterdir()) == []  # not even a hidden file


def test_a_failed_write_leaves_every_payout_pending(ledger, monkeypatch):
    payouts = [credit_refund(ledger), payment_refund_to_iban()]

    def broken(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox_files_module, "write_atomic", broken)
    with pytest.raises(LedgerError) as excinfo:
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert excinfo.value.code == "outbox_write_failed"
    assert_nothing_sent(ledger, *payouts)

    monkeypatch.undo()
    assert payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")["payouts"] == 2


def test_any_other_failure_while_writing_leaves_every_payout_pending(ledger, monkeypatch):
    payout = credit_refund(ledger)
    monkeypatch.setattr(outbox_files_module, "write_atomic", lambda path, content: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert_nothing_sent(ledger, payout)


def test_a_file_that_fails_the_schema_is_not_written(ledger, monkeypatch):
    payout = credit_refund(ledger)
    monkeypatch.setattr(payouts_module, "_amount", lambda value: "-1.00")  # InstdAmt must be >= 0
    with pytest.raises(LedgerError) as excinfo:
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert excinfo.value.code == "payout_file_invalid"
    assert "InstdAmt" in excinfo.value.message
    assert_nothing_sent(ledger, payout)


@pytest.mark.parametrize(
    ("account", "code"),
    [("NO9386011117948", "invalid_bank_account"), ("1" * 35, "invalid_bank_account")],
)
def test_a_bad_creditor_account_sends_nothing(ledger, account, code):
    good = credit_refund(ledger)
    bad = payment_refund_to_iban()
    Payout.objects.filter(pk=bad.pk).update(bank_account=account)
    with pytest.raises(ValidationFailed) as excinfo:
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert excinfo.value.code == code
    assert f"payout {bad.id}" in excinfo.value.message
    assert_nothing_sent(ledger, good, bad)


def test_a_ledger_without_a_client_funds_account_sends_nothing(ledger):
    payout = credit_refund(ledger)
    ledger.client_funds_account = ""
    ledger.save(update_fields=["client_funds_account"])
    with pytest.raises(ValidationFailed) as excinfo:
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")
    assert excinfo.value.code == "bank_account_missing"
    assert_nothing_sent(ledger, payout)


# --- two workers at once ---------------------------------------------------------------------------


def test_two_workers_never_send_the_same_payout_twice(transactional_db, monkeypatch):
    ledger = ledger_with_account()
    payouts = [credit_refund(ledger), payment_refund_to_iban()]
    results, errors = run_two_workers(
        outbox_files_module, lambda: payouts_send(ledger=ledger, as_of=SEND_DAY, actor="w"), monkeypatch
    )

    assert errors == []
    assert results["first"]["payouts"] == 2
    assert results["second"] == {"ok": True, "payouts": 0}
    assert statuses(*payouts) == [("sent", PayoutBatch.objects.get().id)] * 2
    assert outbox_files(ledger) == [results["first"]["file"]]


# --- the command ----------------------------------------------------------------------------------


def test_send_payouts_command_prints_the_summary(ledger):
    credit_refund(ledger)
    payment_refund_to_iban()
    other_ledger = ledger_with_account("15030000010")
    credit_refund(other_ledger, account="15030000010", archive_ref="000000014")

    code, out = run("send_payouts", "--date", "2026-03-06")
    assert code == 0
    assert (out["ok"], out["date"], out["files"], out["payouts"]) == (True, "2026-03-06", 2, 3)
    by_ledger = {r["ledger"]: r for r in out["ledgers"]}
    assert set(by_ledger) == {ledger.company_no, other_ledger.company_no}
    mine = by_ledger[ledger.company_no]
    assert (mine["ok"], mine["payouts"], mine["total"], mine["currency"]) == (True, 2, "174.90", "NOK")
    assert mine["file"] == f"{mine['message_id']}.xml"
    parse_valid(company_dir(ledger.company_no, "outbox") / mine["file"])
    assert PayoutBatch.objects.get(message_id=mine["message_id"]).actor == "send_payouts"

    code, out = run("send_payouts", "--date", "2026-03-06")
    assert (code, out["ok"], out["payouts"], out["ledgers"]) == (0, True, 0, [])
    code, out = run("send_payouts", "--date", "2026-03-06", "--ledger", ledger.company_no)
    assert (code, out["ledgers"]) == (0, [{"ledger": ledger.company_no, "ok": True, "payouts": 0}])


def test_send_payouts_command_exits_1_on_failure(ledger, monkeypatch):
    payout = credit_refund(ledger)

    def broken(path, content):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outbox_files_module, "write_atomic", broken)
    code, out = run("send_payouts", "--date", "2026-03-06", "--ledger", ledger.company_no)
    assert (code, out["ok"]) == (1, False)
    assert out["ledgers"][0]["error"]["code"] == "outbox_write_failed"
    assert_nothing_sent(ledger, payout)

    code, out = run("send_payouts", "--date", "06.03.2026")
    assert (code, out["error"]["code"]) == (1, "usage")
    code, out = run("send_payouts", "--date", "2026-03-06", "--ledger", "123456")
    assert (code, out["error"]["code"]) == (1, "ledger_not_found")


# --- A worker that died in the middle (docs/reliability.md) ------------------------------------------


def hidden_files(ledger) -> list[str]:
    return sorted(p.name for p in company_dir(ledger.company_no, "outbox").iterdir() if p.name.startswith("."))


def test_a_batch_committed_whose_worker_died_before_publishing_is_published_once_by_the_next_run(ledger):
    payouts = [credit_refund(ledger), payment_refund_to_iban()]
    batch = payouts_module._batch_write(ledger=ledger, as_of=SEND_DAY, actor="kari")  # ... and then killed
    assert outbox_files(ledger) == [] and hidden_files(ledger) == [f".{batch.file_name}.pending"]
    hidden = (company_dir(ledger.company_no, "outbox") / f".{batch.file_name}.pending").read_bytes()

    again = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")

    assert again == {"ok": True, "payouts": 0, "published": [batch.file_name]}
    assert outbox_files(ledger) == [batch.file_name] and hidden_files(ledger) == []
    assert (company_dir(ledger.company_no, "outbox") / batch.file_name).read_bytes() == hidden
    assert not PendingOutboxFile.objects.exists()
    assert statuses(*payouts) == [("sent", batch.id)] * 2  # in one file, once
    assert payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari") == {"ok": True, "payouts": 0}


def test_a_committed_batch_whose_hidden_file_is_gone_is_reported_not_sent_again(ledger):
    """The hidden file was fsynced before the commit; if it is gone all the same (the disk), that is said
    clearly and nothing is sent again for its payouts."""
    payouts = [credit_refund(ledger), payment_refund_to_iban()]
    batch = payouts_module._batch_write(ledger=ledger, as_of=SEND_DAY, actor="kari")
    (company_dir(ledger.company_no, "outbox") / f".{batch.file_name}.pending").unlink()

    with pytest.raises(LedgerError) as excinfo:
        payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")

    assert excinfo.value.code == "outbox_file_lost" and batch.file_name in excinfo.value.message
    assert statuses(*payouts) == [("sent", batch.id)] * 2 and PayoutBatch.objects.count() == 1


def test_a_hidden_file_whose_transaction_never_committed_is_never_published_and_its_payouts_go_once(ledger):
    payouts = [credit_refund(ledger), payment_refund_to_iban()]
    orphan = company_dir(ledger.company_no, "outbox") / ".PAYOUT-7301-20260306-999999.xml.pending"
    orphan.write_bytes(b"<Document/>")  # a worker killed before its commit left it; its payouts stayed pending

    result = payouts_send(ledger=ledger, as_of=SEND_DAY, actor="kari")

    assert hidden_files(ledger) == [orphan.name]  # hidden: the bank never fetches it
    assert outbox_files(ledger) == [result["file"]] and result["payouts"] == 2
    assert statuses(*payouts) == [("sent", PayoutBatch.objects.get().id)] * 2
