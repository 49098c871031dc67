"""Returned paper mail, bounced e-mail and rejected e-invoices (seeds/000 section 6)."""

from datetime import date

import pytest
from django.core import mail

from distribution.models import Document, ReturnedDocument, ReturnKind
from distribution.selectors import (
    PAPER_DISTRIBUTION_RETURNED,
    invoice_distribution_status,
    returned_mail_worklist,
)
from distribution.services.queueing import DocumentRequest, documents_queue
from distribution.services.returns import document_return_register, returned_document_readdress
from distribution.services.sending import documents_distribute
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import CustomerEvent, CustomerEventKind
from tests.distribution.conftest import make_invoice
from tests.factories import CustomerFactory, LedgerFactory, UserFactory

DAY = date(2026, 2, 20)
LATER = date(2026, 3, 2)


def sent_document(ledger, *, email=""):
    customer = CustomerFactory(ledger=ledger, email=email)
    invoice = make_invoice(ledger, customer=customer)
    documents_queue(
        requests=[DocumentRequest(ledger.id, customer.id, invoice.id, "reminder", DAY, f"r:{invoice.id}", {})]
    )
    documents_distribute(as_of=DAY, ledger=ledger)
    return Document.objects.get(invoice=invoice)


def test_returned_paper_mail_lands_in_the_worklist_and_marks_the_claim(db, data_dir, ledger_no):
    document = sent_document(ledger_no)
    assert document.channel == "paper"
    item = document_return_register(
        document=document,
        kind=ReturnKind.PAPER_RETURNED,
        reason="Adressaten er flyttet",
        booking_date=LATER,
        actor="returns-file",
    )
    document.refresh_from_db()
    assert document.status == "returned" and item.status == "open"
    assert invoice_distribution_status(invoice=document.invoice) == PAPER_DISTRIBUTION_RETURNED
    assert list(returned_mail_worklist(ledger=ledger_no)) == [item]
    event = CustomerEvent.objects.get(customer=document.customer, kind=CustomerEventKind.RETURNED_MAIL)
    assert event.reason == "paper_returned: Adressaten er flyttet" and event.booking_date == LATER
    # Nothing re-sent until someone finds an address.
    assert Document.objects.count() == 1


def test_a_new_address_resends_a_paper_copy_there(db, data_dir, ledger_no):
    document = sent_document(ledger_no)
    item = document_return_register(
        document=document, kind=ReturnKind.PAPER_RETURNED, reason="flyttet", booking_date=LATER, actor="ops"
    )
    operator = UserFactory(client=ledger_no.client)
    address = {"line1": "Nygata 5", "postal_code": "5003", "city": "Bergen"}
    returned_document_readdress(item=item, address=address, booking_date=LATER, actor=operator)
    item.refresh_from_db()
    assert item.status == "resent" and item.resolved_on == LATER
    assert invoice_distribution_status(invoice=document.invoice) == ""
    assert list(returned_mail_worklist(user=operator)) == []
    documents_distribute(as_of=LATER, ledger=ledger_no)
    copy = item.resent_document
    copy.refresh_from_db()
    assert (copy.status, copy.channel, copy.route, copy.resend_of_id) == (
        "sent",
        "paper",
        "new_address",
        document.pk,
    )
    assert copy.address["city"] == "Bergen" and copy.kind == document.kind
    events = CustomerEvent.objects.filter(customer=document.customer, kind=CustomerEventKind.RETURNED_MAIL)
    assert events.count() == 2 and events.last().created_by == operator
    with pytest.raises(InvalidTransition) as exc:
        returned_document_readdress(item=item, address=address, booking_date=LATER, actor=operator)
    assert exc.value.code == "return_not_open"


def test_a_returns_file_with_the_new_address_resends_at_once(db, data_dir, ledger_no):
    document = sent_document(ledger_no)
    item = document_return_register(
        document=document,
        kind=ReturnKind.PAPER_RETURNED,
        reason="ny adresse fra Posten",
        booking_date=LATER,
        actor="returns-file",
        new_address={"line1": "Nygata 5", "postal_code": "5003", "city": "Bergen"},
    )
    assert item.status == "resent" and item.resent_document.facts["new_address"]["city"] == "Bergen"


def test_a_bounced_email_is_resent_on_paper_to_the_postal_address(db, data_dir, ledger_no):
    document = sent_document(ledger_no, email="gone@example.no")
    assert document.channel == "email" and len(mail.outbox) == 1
    item = document_return_register(
        document=document,
        kind=ReturnKind.EMAIL_BOUNCED,
        reason="550 no such user",
        booking_date=LATER,
        actor="mta",
    )
    assert item.status == "resent"
    documents_distribute(as_of=LATER)
    copy = Document.objects.get(pk=item.resent_document_id)
    assert (copy.status, copy.channel, copy.route) == ("sent", "paper", "legal_address")
    assert copy.channel_reason == "re-sent on paper to the registered postal address after a return"
    assert len(mail.outbox) == 1


def test_return_guards(db, data_dir, ledger_no):
    paper = sent_document(ledger_no)
    with pytest.raises(InvalidTransition) as exc:
        document_return_register(
            document=paper, kind=ReturnKind.EMAIL_BOUNCED, reason="x", booking_date=LATER, actor="mta"
        )
    assert exc.value.code == "return_channel_mismatch"
    # A refused return writes nothing: the document stays sent, no worklist item, no customer event.
    paper.refresh_from_db()
    assert paper.status == "sent" and not ReturnedDocument.objects.exists()
    assert not CustomerEvent.objects.filter(kind=CustomerEventKind.RETURNED_MAIL).exists()
    with pytest.raises(ValidationFailed):
        document_return_register(document=paper, kind="lost", reason="x", booking_date=LATER, actor="ops")
    document_return_register(
        document=paper, kind=ReturnKind.PAPER_RETURNED, reason="x", booking_date=LATER, actor="ops"
    )
    with pytest.raises(InvalidTransition) as exc:
        document_return_register(
            document=paper, kind=ReturnKind.PAPER_RETURNED, reason="x", booking_date=LATER, actor="ops"
        )
    assert exc.value.code == "document_not_sent"
    assert ReturnedDocument.objects.count() == 1


def test_worklist_is_scoped_to_the_users_client(db, data_dir, ledger_no):
    other = LedgerFactory()
    document_return_register(
        document=sent_document(other),
        kind=ReturnKind.PAPER_RETURNED,
        reason="x",
        booking_date=LATER,
        actor="ops",
    )
    mine = UserFactory(client=ledger_no.client)
    theirs = UserFactory(client=other.client)
    assert returned_mail_worklist(user=mine).count() == 0
    assert returned_mail_worklist(user=theirs).count() == 1


def test_retention_never_releases_a_document_of_an_open_invoice(db, data_dir, ledger_no):
    from distribution.selectors import documents_past_retention
    from ledger.services.invoice_changes import invoice_credit

    open_doc = sent_document(ledger_no)
    closed_doc = sent_document(ledger_no)
    invoice_credit(invoice=closed_doc.invoice, actor="test", booking_date=LATER, reason="settled")
    assert open_doc.retention_until == date(2036, 2, 20)
    assert list(documents_past_retention(as_of=date(2036, 2, 20))) == []
    assert list(documents_past_retention(as_of=date(2036, 2, 21))) == [closed_doc]
