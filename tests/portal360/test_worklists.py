"""Worklists: take and release so two operators never work one item; each item's action calls the
domain service and the item leaves the list; another client's items are 404."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from claims.models import CallOutcome, Claim, ClaimEvent, ClaimStatus, StepKind
from distribution.models import ReturnStatus
from ledger.models import InvoiceStatus, JournalTransaction, Payment, Payout, TransactionKind
from ledger.selectors import invoice_balance
from ledger.services.respite_dispute import invoice_dispute_open
from ledger.verify import ledger_verify
from portal360.models import WorklistClaim
from tests.factories import DocumentFactory, InvoiceFactory
from tests.helpers import sign_in
from tests.portal360.conftest import make_user

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
def disputed(invoice):
    invoice_dispute_open(invoice=invoice, actor="portal", reason="I never got the goods")
    return invoice


@pytest.fixture
def colleague(ledger):
    return sign_in(Client(), make_user(ledger, username="carl", email="carl@example.no"))


def test_complaints_list_take_release_and_the_lock(signed_in, colleague, disputed):
    page = signed_in.get("/360/worklists/complaints/").content.decode()
    assert "F-1001" in page and "I never got the goods" in page
    assert 'class="count"' in page  # the navigation shows what waits
    assert signed_in.post(f"/360/worklists/complaints/{disputed.pk}/take/").status_code == 302
    # The colleague cannot take it, nor act on it, while it is taken.
    refused = colleague.post(f"/360/worklists/complaints/{disputed.pk}/take/", follow=True)
    assert "is working on this item" in refused.content.decode()
    acted = colleague.post(
        f"/360/worklists/complaints/{disputed.pk}/resolve/", {"decision": "resume", "note": "x"}
    )
    assert "is working on this item" in acted.content.decode()
    disputed.refresh_from_db()
    assert disputed.status == InvoiceStatus.DISPUTED
    signed_in.post(f"/360/worklists/complaints/{disputed.pk}/release/")
    assert not WorklistClaim.objects.exists()
    assert colleague.post(f"/360/worklists/complaints/{disputed.pk}/take/").status_code == 302


def test_a_forgotten_take_is_free_again_after_eight_hours(signed_in, colleague, disputed):
    signed_in.post(f"/360/worklists/complaints/{disputed.pk}/take/")
    from datetime import datetime

    from ledger.models import User

    with time_machine.travel(datetime(2026, 3, 2, 9, 0)):
        sign_in(colleague, User.objects.get(username="carl"))
        assert colleague.post(f"/360/worklists/complaints/{disputed.pk}/take/").status_code == 302
        assert WorklistClaim.objects.get().taken_by.username == "carl"


def test_resolve_a_complaint_in_the_customers_favour(signed_in, disputed):
    answer = signed_in.post(f"/360/worklists/complaints/{disputed.pk}/resolve/",
                            {"decision": "favour", "amount": "400", "note": "goods were damaged"})  # fmt: skip
    assert answer.status_code == 302
    disputed.refresh_from_db()
    assert disputed.status == InvoiceStatus.OPEN and invoice_balance(disputed).capital == Decimal("600.00")
    credit = JournalTransaction.objects.get(invoice=disputed, kind=TransactionKind.CREDIT)
    assert credit.cause == "Complaint" and credit.actor == "olivia"
    assert "F-1001" not in signed_in.get("/360/worklists/complaints/").content.decode()
    assert not WorklistClaim.objects.exists()


def test_resolve_against_the_customer_resumes_and_a_failure_writes_nothing(signed_in, disputed):
    failed = signed_in.post(f"/360/worklists/complaints/{disputed.pk}/resolve/",
                            {"decision": "favour", "amount": "5000", "note": "too much"})  # fmt: skip
    assert (
        failed.status_code == 200 and "The credit is more than the open principal." in failed.content.decode()
    )
    disputed.refresh_from_db()
    assert disputed.status == InvoiceStatus.DISPUTED and not WorklistClaim.objects.exists()
    signed_in.post(
        f"/360/worklists/complaints/{disputed.pk}/resolve/", {"decision": "resume", "note": "delivered"}
    )
    disputed.refresh_from_db()
    assert disputed.status == InvoiceStatus.OPEN
    assert disputed.events.latest("id").reason.startswith("complaint resolved not in the customer's favour")


@pytest.fixture
def returned(invoice):
    from distribution.services.returns import document_return_register

    document = DocumentFactory(customer=invoice.customer, invoice=invoice, channel="paper",
                               address={"line1": "Storgata 1", "postal_code": "0155", "city": "Oslo"})  # fmt: skip
    return document_return_register(document=document, kind="paper_returned", reason="moved", booking_date=TODAY,
                                    actor="post")  # fmt: skip


def test_returned_mail_new_address_or_unreachable(signed_in, returned, invoice):
    page = signed_in.get("/360/worklists/returned_mail/").content.decode()
    assert "moved" in page
    refused = signed_in.post(f"/360/worklists/returned_mail/{returned.pk}/readdress/",
                             {"line1": "Nygata 5", "postal_code": "ABCDE", "city": "Bergen", "country": "XX"})  # fmt: skip
    assert refused.status_code == 200 and "XX is not a country code (ISO 3166" in refused.content.decode()
    returned.refresh_from_db()
    assert returned.status == ReturnStatus.OPEN
    signed_in.post(f"/360/worklists/returned_mail/{returned.pk}/readdress/",
                   {"line1": "Nygata 5", "postal_code": "5003", "city": "Bergen", "country": "no"})  # fmt: skip
    returned.refresh_from_db()
    assert returned.status == ReturnStatus.RESENT
    assert returned.resent_document.facts["new_address"]["city"] == "Bergen"


def test_returned_mail_unreachable(signed_in, returned):
    signed_in.post(
        f"/360/worklists/returned_mail/{returned.pk}/unreachable/", {"reason": "no address in the register"}
    )
    returned.refresh_from_db()
    assert returned.status == ReturnStatus.UNREACHABLE and returned.resolved_on == TODAY
    assert signed_in.get(f"/360/worklists/returned_mail/{returned.pk}/").status_code == 404  # left the list


def test_unidentified_payment_placed_on_an_invoice_by_kid(signed_in, ledger, invoice):
    from tests.ledger.test_payment_operator_services import unidentified

    payment = unidentified("250.00")
    assert signed_in.get("/360/worklists/unidentified/").content.decode().count("250,00") >= 1
    answer = signed_in.post(f"/360/worklists/unidentified/{payment.pk}/allocate/",
                            {"invoice": invoice.payment_ref, "amount": "", "reason": "the payer phoned"})  # fmt: skip
    assert answer.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED and invoice_balance(invoice).capital == Decimal(
        "750.00"
    )
    assert all(check["ok"] for check in ledger_verify(ledger=ledger))
    unknown = unidentified("10.00", archive_ref="000000902")
    missing = signed_in.post(f"/360/worklists/unidentified/{unknown.pk}/allocate/",
                             {"invoice": "NOPE", "amount": "", "reason": "x"})  # fmt: skip
    assert missing.status_code == 200 and "There is no invoice NOPE in this ledger." in missing.content.decode()


def test_unidentified_payment_refunded(signed_in, ledger):
    from tests.ledger.test_payment_operator_services import unidentified

    payment = unidentified("99.00")
    signed_in.post(
        f"/360/worklists/unidentified/{payment.pk}/refund/", {"bank_account": "", "reason": "unknown payer"}
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED


def test_a_refund_to_a_bank_account_that_fails_its_check_is_refused_on_the_page(signed_in, ledger):
    from tests.ledger.test_payment_operator_services import unidentified

    payment = unidentified("499.00", payer_account="")
    answer = signed_in.post(
        f"/360/worklists/unidentified/{payment.pk}/refund/", {"bank_account": "abc", "reason": "unknown payer"}
    )
    assert answer.status_code == 200
    assert "abc is not a valid bank account number: check the digits, or give an IBAN." in answer.content.decode()
    signed_in.post("/360/language/", {"language": "nb", "next": "/360/"})
    norwegian = signed_in.post(
        f"/360/worklists/unidentified/{payment.pk}/refund/", {"bank_account": "86011117948", "reason": "x"}
    )
    assert "86011117948 er ikke et gyldig kontonummer" in norwegian.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNIDENTIFIED
    assert not Payout.objects.filter(ledger=ledger).exists()


@pytest.fixture
def call_task(invoice):
    claim = Claim.objects.create(ledger=invoice.ledger, invoice=invoice, level=StepKind.CALL_TASK, position=5,
                                 deadline=TODAY, next_on=TODAY + timedelta(days=3))  # fmt: skip
    return ClaimEvent.objects.create(ledger=invoice.ledger, claim=claim, invoice=invoice, kind="step", position=5,
                                     step_kind=StepKind.CALL_TASK, booking_date=TODAY - timedelta(days=1),
                                     actor="system:claims")  # fmt: skip


def test_the_call_list_shows_phone_and_open_amount_and_only_claims_still_chased(signed_in, call_task, invoice):
    invoice.customer.phone = "+4791234567"
    invoice.customer.save(update_fields=["phone"])
    page = signed_in.get("/360/worklists/calls/").content.decode()
    assert "F-1001" in page and "+4791234567" in page and "1\xa0000,00" in page
    Claim.objects.filter(pk=call_task.claim_id).update(status=ClaimStatus.RECALLED, next_on=None)
    assert "F-1001" not in signed_in.get("/360/worklists/calls/").content.decode()
    Claim.objects.filter(pk=call_task.claim_id).update(status=ClaimStatus.ACTIVE)
    invoice_dispute_open(invoice=invoice, actor="test", reason="customer says paid")
    assert "F-1001" not in signed_in.get("/360/worklists/calls/").content.decode()


def test_a_call_with_a_promise_to_pay_becomes_a_respite(signed_in, call_task, invoice):
    assert "F-1001" in signed_in.get("/360/worklists/calls/").content.decode()
    missing_date = signed_in.post(
        f"/360/worklists/calls/{call_task.pk}/outcome/", {"outcome": "promise_to_pay"}
    )
    assert missing_date.status_code == 200 and not CallOutcome.objects.exists()
    signed_in.post(f"/360/worklists/calls/{call_task.pk}/outcome/",
                   {"outcome": "promise_to_pay", "promised_until": "2026-03-16", "note": "pays on payday"})  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 16))
    outcome = CallOutcome.objects.get(task=call_task)
    assert (outcome.outcome, outcome.actor) == ("promise_to_pay", "olivia")
    assert "F-1001" not in signed_in.get("/360/worklists/calls/").content.decode()


def test_another_clients_items_are_404_and_readers_cannot_take(
    client, signed_in, reader, other_ledger, disputed
):
    foreign = InvoiceFactory(customer=__import__("tests.factories", fromlist=["CustomerFactory"]).CustomerFactory(
        ledger=other_ledger), invoice_no="X-1")  # fmt: skip
    invoice_dispute_open(invoice=foreign, actor="x", reason="y")
    assert signed_in.get(f"/360/worklists/complaints/{foreign.pk}/").status_code == 404
    assert signed_in.post(f"/360/worklists/complaints/{foreign.pk}/take/").status_code == 404
    assert (
        signed_in.post(
            f"/360/worklists/complaints/{foreign.pk}/resolve/", {"decision": "resume", "note": "n"}
        ).status_code
        == 404
    )
    assert signed_in.get("/360/worklists/nonsense/").status_code == 404
    sign_in(client, reader)
    assert client.post(f"/360/worklists/complaints/{disputed.pk}/take/").status_code == 403


def test_a_respite_request_from_the_portal_is_granted(signed_in, invoice):
    from invoiceportal.models import RespiteRequest, RespiteStatus

    request = RespiteRequest.objects.create(ledger=invoice.ledger, invoice=invoice, customer=invoice.customer,
                                            until=date(2026, 4, 20), days=45, message="salary is late",
                                            status=RespiteStatus.PENDING)  # fmt: skip
    assert "salary is late" in signed_in.get("/360/worklists/respite_requests/").content.decode()
    answer = signed_in.post(
        f"/360/worklists/respite_requests/{request.pk}/decide/", {"decision": "grant", "reason": ""}
    )
    assert answer.status_code == 302
    invoice.refresh_from_db()
    request.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 4, 20))
    assert (request.status, request.decided_by) == (RespiteStatus.GRANTED, "olivia")
    assert "salary is late" not in signed_in.get("/360/worklists/respite_requests/").content.decode()


def test_a_later_call_step_replaces_an_earlier_unlogged_one(signed_in, call_task, invoice):
    later = ClaimEvent.objects.create(ledger=invoice.ledger, claim=call_task.claim, invoice=invoice, kind="step",
                                      position=7, step_kind=StepKind.CALL_TASK, booking_date=TODAY,
                                      actor="system:claims")  # fmt: skip
    page = signed_in.get("/360/worklists/calls/").content.decode()
    assert f"/360/worklists/calls/{later.pk}/take/" in page
    assert f"/360/worklists/calls/{call_task.pk}/take/" not in page


def test_a_claim_held_on_a_minor_waits_in_its_list_until_the_guardian_is_registered(signed_in, ledger, other_ledger):
    from claims.services.escalation import claims_escalate
    from ledger.services.customers import customer_upsert
    from tests.factories import CustomerFactory

    child = customer_upsert(ledger=ledger, customer_no="6001", name="Ola Liten", national_id="01031550056")
    invoice = InvoiceFactory(customer=child, invoice_no="M-1", invoice_date=date(2026, 1, 5))
    claims_escalate(ledger=ledger, as_of=TODAY)
    claim = Claim.objects.get(invoice=invoice)
    assert claim.status == ClaimStatus.HELD

    listing = signed_in.get("/360/worklists/minors/").content.decode()
    assert "M-1" in listing and "Ola Liten" in listing
    customer_page = signed_in.get(f"/360/l/{ledger.company_no}/customers/6001/").content.decode()
    assert 'id="minor-badge"' in customer_page and "None given: the claims wait" in customer_page
    CustomerFactory(ledger=other_ledger, customer_no="7007")  # another client's customer is no guardian
    refused = signed_in.post(f"/360/worklists/minors/{claim.pk}/guardian/", {"guardian_customer_no": "7007"})
    assert "7007 is not a customer of this ledger" in refused.content.decode()
    child.refresh_from_db()
    assert child.guardian is None

    guardian = CustomerFactory(ledger=ledger, customer_no="6002", name="Kari Forelder")
    done = signed_in.post(f"/360/worklists/minors/{claim.pk}/guardian/", {"guardian_customer_no": "6002"})
    assert done.status_code == 302
    child.refresh_from_db()
    assert child.guardian == guardian
    assert "M-1" not in signed_in.get("/360/worklists/minors/").content.decode()
    page = signed_in.get(f"/360/l/{ledger.company_no}/customers/6001/").content.decode()
    assert 'id="guardian"' in page and "Kari Forelder" in page
    assert "Ola Liten" in signed_in.get(f"/360/l/{ledger.company_no}/customers/6002/").content.decode()
    claims_escalate(ledger=ledger, as_of=TODAY + timedelta(days=1))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACTIVE
