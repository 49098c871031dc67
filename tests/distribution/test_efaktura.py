"""eFaktura 2.0 alias matching (Norway): a private customer is an eFaktura receiver by a perfect match of
the national id or of two of mobile, e-mail and postcode; a receiver who said yes to all gets the
invoice in the online bank without a consent; the answer, or why there is none, is recorded on the
customer and shown in 360."""

import json
from datetime import date, timedelta

import pytest

from distribution.efaktura import Aliases, FileRegister, matched_by
from distribution.models import Document, EfakturaMatch
from distribution.services.efaktura_matching import efaktura_match
from distribution.services.sending import documents_distribute
from ledger.models import LegalEntity
from tests.distribution.conftest import make_invoice
from tests.distribution.test_documents_distribute import queue
from tests.factories import CustomerFactory
from tests.helpers import sign_in
from tests.portal360.conftest import make_user

DAY = date(2026, 2, 20)
KARI = {"national_id": "01017012345", "phone": "+47 912 34 567", "email": "Kari@Example.no", "postal_code": "0150"}


@pytest.fixture
def register(settings, data_dir):
    path = data_dir / "efaktura" / "register.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings.EFAKTURA_REGISTER_FILE = path

    def write(*receivers):
        path.write_text(json.dumps(list(receivers)))
        return path

    return write


def aliases(**fields):
    return Aliases(**fields).normalised()


@pytest.mark.parametrize(
    ("ours", "expected"),
    [
        ({"national_id": "010170 12345"}, "national_id"),
        ({"phone": "91234567", "email": "kari@example.no"}, "phone+email"),
        ({"phone": "0047 91234567", "postal_code": "0150"}, "phone+postal_code"),
        ({"email": " KARI@example.no", "postal_code": "0150"}, "email+postal_code"),
        ({"phone": "91234567", "email": "kari@example.no", "postal_code": "0150"}, "phone+email+postal_code"),
        ({"phone": "91234567"}, ""),  # one of three is not a match
        ({"phone": "91234567", "email": "kari@example.com"}, ""),  # nor two with one of them off
        ({"national_id": "01017012346", "email": "kari@example.no"}, ""),
    ],
)
def test_a_perfect_match_of_the_national_id_or_of_two_of_three(ours, expected):
    assert matched_by(aliases(**ours), aliases(**KARI)) == expected


def test_two_receivers_matching_is_no_match_unless_the_national_id_decides(register, db):
    register({"receiver_id": "R-1", "phone": "91234567", "email": "kari@example.no"},
             {"receiver_id": "R-2", "email": "kari@example.no", "postal_code": "0150"})  # fmt: skip
    answer = FileRegister().lookup(aliases(phone="91234567", email="kari@example.no", postal_code="0150"))
    assert answer.receiver_id == "" and "2 eFaktura receivers match" in answer.reason
    register({"receiver_id": "R-1", "phone": "91234567", "email": "kari@example.no"},
             {"receiver_id": "R-2", "national_id": "01017012345"})  # fmt: skip
    answer = FileRegister().lookup(aliases(national_id="01017012345", phone="91234567", email="kari@example.no"))
    assert (answer.receiver_id, answer.matched_by) == ("R-2", "national_id")


def test_a_receiver_who_said_yes_to_all_gets_the_invoice_in_the_bank(register, data_dir, ledger_no):
    register({"receiver_id": "EF-1001", "phone": "91234567", "email": "kari@example.no", "accepts_all": True})
    kari = CustomerFactory(ledger=ledger_no, email="kari@example.no", phone="+4791234567", national_id="")
    invoice = make_invoice(ledger_no, customer=kari)
    queue(invoice, kind="invoice")

    documents_distribute(as_of=DAY)

    document = Document.objects.get(invoice=invoice)
    assert (document.status, document.channel) == ("sent", "einvoice_b2c")
    assert "EF-1001" in document.channel_reason and document.address["receiver_id"] == "EF-1001"
    match = EfakturaMatch.objects.get(customer=kari)
    assert (match.receiver_id, match.matched_by, match.accepts_all, match.checked_on) == (
        "EF-1001", "phone+email", True, DAY)
    [record] = (data_dir / "distribution" / "efaktura_no" / ledger_no.company_no / DAY.isoformat()).glob("*.json")
    assert json.loads(record.read_text())["receiver_id"] == "EF-1001"


@pytest.mark.parametrize(
    ("receivers", "reason"),
    [
        ([], "no eFaktura receiver matches"),
        ([{"receiver_id": "EF-2", "phone": "91234567", "email": "kari@example.no", "accepts_all": False}],
         "has not said yes to all"),
    ],
)
def test_without_a_receiver_who_said_yes_to_all_the_next_channel_and_why(register, data_dir, ledger_no,
                                                                          receivers, reason):  # fmt: skip
    register(*receivers)
    kari = CustomerFactory(ledger=ledger_no, email="kari@example.no", phone="91234567", national_id="")
    invoice = make_invoice(ledger_no, customer=kari)
    queue(invoice, kind="invoice")
    documents_distribute(as_of=DAY)
    assert Document.objects.get(invoice=invoice).channel == "email"
    assert reason in EfakturaMatch.objects.get(customer=kari).reason


def test_an_unreadable_register_is_recorded_and_the_document_goes_on(register, data_dir, ledger_no):
    register().write_text("{ not json")
    kari = CustomerFactory(ledger=ledger_no, email="kari@example.no", phone="91234567")
    invoice = make_invoice(ledger_no, customer=kari)
    queue(invoice, kind="invoice")
    documents_distribute(as_of=DAY)
    assert Document.objects.get(invoice=invoice).status == "sent"
    assert "the eFaktura register could not answer: JSONDecodeError" in EfakturaMatch.objects.get(customer=kari).reason


def test_businesses_and_other_countries_are_not_looked_up(register, data_dir, ledger_no):
    register({"receiver_id": "EF-1", "email": "firma@example.no", "phone": "91234567"})
    firm = CustomerFactory(ledger=ledger_no, legal_entity=LegalEntity.BUSINESS, email="firma@example.no",
                           phone="91234567")  # fmt: skip
    queue(make_invoice(ledger_no, customer=firm), kind="invoice")
    documents_distribute(as_of=DAY)
    assert not EfakturaMatch.objects.exists()


def test_an_answer_is_kept_for_a_week_then_asked_again(register, db, ledger_no):
    register()
    kari = CustomerFactory(ledger=ledger_no, email="kari@example.no", phone="91234567")
    assert efaktura_match(customer=kari, today=DAY, fresh_days=7).receiver_id == ""
    register({"receiver_id": "EF-3", "phone": "91234567", "email": "kari@example.no"})  # she says yes in the bank
    assert efaktura_match(customer=kari, today=DAY + timedelta(days=6), fresh_days=7).receiver_id == ""
    assert efaktura_match(customer=kari, today=DAY + timedelta(days=7), fresh_days=7).receiver_id == "EF-3"
    assert EfakturaMatch.objects.filter(customer=kari).count() == 1


def test_360_shows_the_match_on_the_customer_page(register, client, ledger_no):
    register({"receiver_id": "EF-4", "national_id": "01017012345"})
    kari = CustomerFactory(ledger=ledger_no, national_id="01017012345", email="", phone="")
    efaktura_match(customer=kari, today=DAY)
    sign_in(client, make_user(ledger_no))
    page = client.get(f"/360/l/{ledger_no.company_no}/customers/{kari.customer_no}/").content.decode()
    assert "eFaktura 2.0" in page and "receiver EF-4, matched by national id" in page
    other = CustomerFactory(ledger=ledger_no, national_id="", email="", phone="")
    efaktura_match(customer=other, today=DAY)
    page = client.get(f"/360/l/{ledger_no.company_no}/customers/{other.customer_no}/").content.decode()
    assert "neither a national id nor two of mobile, e-mail and postcode" in page
