"""Every invoice action from the invoice page: it calls the service, lands in the journal and the events
with the operator's name, shows the service's guard error in words, and a failure writes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.base import ContentFile

from claims.models import Claim, ClaimEvent, ClaimStatus, StepKind
from distribution.models import Document
from distribution.services.common import archive_storage
from ledger.models import Cause, InvoiceEvent, InvoiceStatus, JournalTransaction, Payment, TransactionKind
from ledger.selectors import invoice_balance
from ledger.verify import ledger_verify
from tests.factories import DocumentFactory
from tests.helpers import book_costs

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


def act(client, invoice, action, **data):
    return client.post(
        f"/360/l/{invoice.ledger.company_no}/invoice-action/{action}/{invoice.invoice_no}/", data
    )


def last_event(invoice) -> InvoiceEvent:
    return InvoiceEvent.objects.filter(invoice=invoice).order_by("-id").first()


def test_respite_set_and_removed(signed_in, invoice):
    answer = act(signed_in, invoice, "respite", until="2026-03-20", reason="customer asked by phone")
    assert answer.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 20))
    event = last_event(invoice)
    assert (event.kind, event.actor, event.reason) == ("respite_set", "olivia", "customer asked by phone")
    assert "Respite registered." in signed_in.get(answer["Location"]).content.decode()

    act(signed_in, invoice, "respite_clear", reason="paid soon")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and last_event(invoice).kind == "respite_cleared"


def test_a_respite_past_the_ledgers_longest_is_refused_in_words(signed_in, invoice):
    events = InvoiceEvent.objects.count()
    answer = act(signed_in, invoice, "respite", until="2099-12-31", reason="")
    assert answer.status_code == 200
    longest = invoice.ledger.today() + timedelta(days=90)
    assert longest == date(2026, 5, 31)
    assert "The longest respite this ledger allows is 90 days, until 05/31/2026." in answer.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and InvoiceEvent.objects.count() == events


def test_a_respite_in_the_past_is_refused_in_words_and_writes_nothing(signed_in, invoice):
    events = InvoiceEvent.objects.count()
    answer = act(signed_in, invoice, "respite", until="2026-03-01", reason="")
    assert answer.status_code == 200
    assert "The respite date must be after today." in answer.content.decode()
    assert 'id="action-respite" open' in answer.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and InvoiceEvent.objects.count() == events


def test_dispute_registered_and_resolved(signed_in, invoice):
    act(signed_in, invoice, "dispute", reason="the goods never came")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED
    assert (last_event(invoice).reason, last_event(invoice).actor) == ("the goods never came", "olivia")
    again = act(signed_in, invoice, "dispute", reason="twice")
    assert "already disputed" in again.content.decode() or "Register dispute" not in again.content.decode()
    assert act(signed_in, invoice, "dispute", reason="").status_code == 200  # a reason is required
    act(signed_in, invoice, "dispute_close", reason="delivery confirmed")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and last_event(invoice).kind == "dispute_closed"


def test_part_credit_with_cause_and_the_journal(signed_in, invoice):
    answer = act(signed_in, invoice, "credit", amount="250,50", cause=Cause.COMPLAINT, reason="damaged item")
    assert answer.status_code == 302
    txn = JournalTransaction.objects.get(invoice=invoice, kind=TransactionKind.CREDIT)
    assert (txn.cause, txn.actor) == (Cause.COMPLAINT, "olivia")
    assert invoice_balance(invoice).capital == Decimal("749.50")
    assert all(check["ok"] for check in ledger_verify(ledger=invoice.ledger))


def test_credit_over_the_open_principal_is_refused(signed_in, invoice):
    answer = act(signed_in, invoice, "credit", amount="5000", cause="", reason="too much")
    assert "The credit is more than the open principal." in answer.content.decode()
    assert not JournalTransaction.objects.filter(invoice=invoice, kind=TransactionKind.CREDIT).exists()


def test_whole_credit_closes_the_invoice(signed_in, invoice):
    book_costs(invoice, fee=Decimal("35.00"))
    act(signed_in, invoice, "credit", amount="", cause="", reason="cancelled order")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED and invoice_balance(invoice).open_amount == 0
    page = signed_in.get(
        f"/360/l/{invoice.ledger.company_no}/invoices/{invoice.invoice_no}/"
    ).content.decode()
    assert "Book the credit" not in page  # no actions on a closed invoice


def test_write_off_needs_a_cause(signed_in, invoice):
    assert act(signed_in, invoice, "write_off", amount="", cause="", reason="").status_code == 200
    act(signed_in, invoice, "write_off", amount="100", cause=Cause.BANKRUPTCY, reason="estate")
    txn = JournalTransaction.objects.get(invoice=invoice, kind=TransactionKind.WRITE_OFF)
    assert txn.cause == Cause.BANKRUPTCY and invoice_balance(invoice).capital == Decimal("900.00")


def put_in_collection(invoice, fee=Decimal("280.00")):
    book_costs(invoice, fee=fee, day=TODAY - timedelta(days=3))
    return Claim.objects.create(ledger=invoice.ledger, invoice=invoice, level=StepKind.PAYMENT_DEMAND, position=4,
                                deadline=TODAY + timedelta(days=11), next_on=TODAY + timedelta(days=4),
                                collection_fees_charged=fee)  # fmt: skip


def test_stop_collection_keeps_the_fees(signed_in, invoice):
    claim = put_in_collection(invoice)
    assert '<span class="badge collection">in collection</span>' in signed_in.get(
        f"/360/l/{invoice.ledger.company_no}/invoices/{invoice.invoice_no}/"
    ).content.decode()
    answer = act(signed_in, invoice, "collection_stop", mode="stop", reason="client agreed a plan with the customer")
    assert "Collection stopped on the client&#x27;s request." in signed_in.get(answer["Location"]).content.decode()
    claim.refresh_from_db()
    assert (claim.status, claim.next_on) == (ClaimStatus.STOPPED, None)
    assert invoice_balance(invoice).fees == Decimal("280.00")
    assert last_event(invoice).kind == "collection_stopped" and last_event(invoice).actor == "olivia"
    assert ClaimEvent.objects.get(claim=claim).kind == "stopped"


def test_recall_from_collection_takes_the_collection_fees_off(signed_in, invoice):
    claim = put_in_collection(invoice)
    answer = act(signed_in, invoice, "collection_stop", mode="recall", reason="client's request")
    page = signed_in.get(answer["Location"]).content.decode()
    assert "Claim recalled from collection on the client&#x27;s request" in page
    assert "Collection stopped" not in page
    assert '<span class="badge collection">in collection</span>' not in page  # the header
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.RECALLED
    assert invoice_balance(invoice).fees == 0 and invoice_balance(invoice).capital == Decimal("1000.00")
    assert last_event(invoice).kind == "collection_recalled"
    assert all(check["ok"] for check in ledger_verify(ledger=invoice.ledger))


def test_stop_is_refused_before_collection(signed_in, invoice):
    answer = act(signed_in, invoice, "collection_stop", mode="stop", reason="x")
    assert "The claim is not in collection." in answer.content.decode()


def test_send_a_copy_of_a_document(signed_in, invoice, django_capture_on_commit_callbacks):
    document = DocumentFactory(customer=invoice.customer, invoice=invoice)
    archive_storage().save(document.archive_name, ContentFile(b"%PDF-1.4"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = act(signed_in, invoice, "copy", document=document.pk)
    assert answer.status_code == 302 and len(callbacks) == 1  # the distribution run, after the commit
    copy = Document.objects.get(source_key=f"copy:{document.pk}:1")
    assert (copy.kind, copy.status, copy.facts["copy_of"]) == (document.kind, "queued", document.pk)
    assert document.events.get().reason == f"copy requested: document {copy.pk}"


def test_place_an_unidentified_payment_on_the_invoice(signed_in, invoice):
    from tests.ledger.test_payment_operator_services import unidentified

    payment = unidentified("400.00")
    answer = act(signed_in, invoice, "allocate", payment=payment.pk, amount="", reason="payer phoned")
    assert answer.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED
    assert invoice_balance(invoice).capital == Decimal("600.00")
    assert all(check["ok"] for check in ledger_verify(ledger=invoice.ledger))


def test_an_unknown_action_is_404(signed_in, invoice):
    assert act(signed_in, invoice, "delete").status_code == 404
    assert (
        signed_in.get(
            f"/360/l/{invoice.ledger.company_no}/invoice-action/respite/{invoice.invoice_no}/"
        ).status_code
        == 405
    )
