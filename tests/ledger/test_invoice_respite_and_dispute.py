from datetime import date

import pytest
from django.db import IntegrityError, transaction

from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import Invoice, InvoiceStatus
from ledger.services.invoice_changes import invoice_credit
from ledger.services.respite_dispute import (
    invoice_dispute_close,
    invoice_dispute_open,
    invoice_respite_clear,
    invoice_respite_set,
)
from tests.factories import InvoiceFactory, UserFactory

TODAY = date(2026, 2, 1)


def events(invoice):
    return list(invoice.events.values_list("kind", "from_status", "to_status"))


def test_respite_set_and_clear_are_recorded(db):
    invoice = InvoiceFactory()
    user = UserFactory(username="ola")
    invoice_respite_set(
        invoice=invoice, until=date(2026, 3, 1), actor=user, reason="Agreed by phone", booking_date=TODAY
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 1))

    invoice_respite_set(invoice=invoice, until=date(2026, 3, 15), actor=user, booking_date=TODAY)
    invoice.refresh_from_db()
    assert invoice.respite_until == date(2026, 3, 15)

    invoice_respite_clear(invoice=invoice, actor=user, reason="Customer asked", booking_date=TODAY)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.OPEN, None)
    assert events(invoice) == [
        ("registered", "", "open"),
        ("respite_set", "open", "respite"),
        ("respite_set", "respite", "respite"),
        ("respite_cleared", "respite", "open"),
    ]
    first = invoice.events.get(kind="respite_set", from_status="open")
    assert (first.actor, first.created_by_id, first.reason) == ("ola", user.id, "Agreed by phone")


def test_respite_date_must_be_in_the_future(db):
    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_respite_set(invoice=invoice, until=TODAY, actor="test", booking_date=TODAY)
    assert excinfo.value.code == "respite_date_not_future"
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN
    assert invoice.events.count() == 1


def test_respite_on_closed_invoice_is_refused(db):
    invoice = InvoiceFactory()
    invoice_credit(invoice=invoice, actor="test")
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_respite_set(invoice=invoice, until=date(2026, 3, 1), actor="test", booking_date=TODAY)
    assert excinfo.value.code == "invoice_closed"


def test_respite_clear_without_respite_is_refused(db):
    invoice = InvoiceFactory()
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_respite_clear(invoice=invoice, actor="test")
    assert excinfo.value.code == "no_respite"


def test_dispute_stops_respite_and_closes_back_to_open(db):
    invoice = InvoiceFactory()
    invoice_respite_set(invoice=invoice, until=date(2026, 3, 1), actor="test", booking_date=TODAY)
    invoice_dispute_open(invoice=invoice, actor="test", reason="Goods never arrived", booking_date=TODAY)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.DISPUTED, None)

    with pytest.raises(InvalidTransition) as excinfo:
        invoice_respite_set(invoice=invoice, until=date(2026, 3, 1), actor="test", booking_date=TODAY)
    assert excinfo.value.code == "invoice_disputed"
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_dispute_open(invoice=invoice, actor="test", reason="again", booking_date=TODAY)
    assert excinfo.value.code == "already_disputed"

    invoice_dispute_close(invoice=invoice, actor="test", reason="Delivery confirmed", booking_date=TODAY)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert events(invoice)[-2:] == [
        ("dispute_opened", "respite", "disputed"),
        ("dispute_closed", "disputed", "open"),
    ]


def test_dispute_needs_a_reason_and_close_needs_a_dispute(db):
    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed):
        invoice_dispute_open(invoice=invoice, actor="test", reason="")
    with pytest.raises(InvalidTransition) as excinfo:
        invoice_dispute_close(invoice=invoice, actor="test")
    assert excinfo.value.code == "not_disputed"
    assert invoice.events.count() == 1


def test_disputed_invoice_can_still_be_credited_to_closed(db):
    invoice = InvoiceFactory()
    invoice_dispute_open(invoice=invoice, actor="test", reason="Wrong price", booking_date=TODAY)
    invoice_credit(invoice=invoice, actor="test", reason="Complaint accepted", booking_date=TODAY)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CLOSED


def test_database_refuses_respite_status_without_date(db):
    invoice = InvoiceFactory()
    with pytest.raises(IntegrityError, match="invoice_respite_has_date"):
        with transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.RESPITE)


def test_database_refuses_closed_status_without_date(db):
    invoice = InvoiceFactory()
    with pytest.raises(IntegrityError, match="invoice_closed_has_date"):
        with transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.CLOSED)


def test_a_respite_is_at_most_the_ledgers_longest_and_a_rule_change_moves_it(db):
    from ledger.settings_changes import ledger_rules_change

    invoice = InvoiceFactory()
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_respite_set(invoice=invoice, until=date(2099, 12, 31), actor="test", booking_date=TODAY)
    error = excinfo.value
    assert (error.code, error.field, error.params) == (
        "respite_too_long",
        "until",
        {"days": 90, "until": date(2026, 5, 2)},
    )
    assert "at most 90 days, until 2026-05-02" in error.message
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN and invoice.events.count() == 1

    invoice_respite_set(
        invoice=invoice, until=date(2026, 5, 2), actor="test", booking_date=TODAY
    )  # exactly 90
    ledger_rules_change(ledger=invoice.ledger, values={"max_respite_days": 30}, effective_from=invoice.ledger.today(),
                        actor="admin")  # fmt: skip
    with pytest.raises(ValidationFailed) as excinfo:
        invoice_respite_set(invoice=invoice, until=date(2026, 3, 4), actor="test", booking_date=TODAY)
    assert excinfo.value.params["days"] == 30


def test_the_database_refuses_a_longest_respite_out_of_range(db):
    invoice = InvoiceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(invoice.ledger).objects.filter(pk=invoice.ledger_id).update(max_respite_days=0)
