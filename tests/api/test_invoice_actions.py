"""Actions on an invoice through the API: respite, dispute, credit, write-off, each by the same
service as the UI; coded errors; idempotency keys."""

from decimal import Decimal

import time_machine

from api.models import IdempotencyRecord
from ledger.models import Invoice, InvoiceEvent, InvoiceStatus, JournalTransaction, TransactionKind
from tests.helpers import book_costs

from .conftest import assert_problem, invoice_in, url

TODAY = "2026-02-10 10:00:00+00:00"


def post(api, ledger, path, data, **headers):
    return api.post(url(ledger, f"invoices/A-1/{path}"), data, format="json", headers=headers or None)


@time_machine.travel(TODAY, tick=False)
def test_respite_set_and_clear(ledger, api):
    invoice_in(ledger, invoice_no="A-1")
    response = post(api, ledger, "respite/", {"until": "2026-03-01", "reason": "customer asked"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "respite" and response.json()["respite_until"] == "2026-03-01"
    response = post(api, ledger, "respite/clear/", {})
    assert response.status_code == 200 and response.json()["status"] == "open"
    kinds = list(InvoiceEvent.objects.filter(invoice__invoice_no="A-1").values_list("kind", flat=True))
    assert kinds == ["registered", "respite_set", "respite_cleared"]
    assert_problem(post(api, ledger, "respite/clear/", {}), 409, "no_respite")


@time_machine.travel(TODAY, tick=False)
def test_respite_errors_name_the_field_and_change_nothing(ledger, api):
    invoice = invoice_in(ledger, invoice_no="A-1")
    assert_problem(post(api, ledger, "respite/", {}), 400, "validation_failed", "until")
    assert_problem(post(api, ledger, "respite/", {"until": "soon"}), 400, "validation_failed", "until")
    assert_problem(
        post(api, ledger, "respite/", {"until": "2026-02-01"}), 422, "respite_date_not_future", "until"
    )
    response = post(api, ledger, "respite/", {"until": "2099-12-31"})
    assert_problem(response, 422, "respite_too_long", "until")
    assert "at most 90 days, until 2026-05-11" in response.json()["detail"]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and invoice.events.count() == 1


def test_dispute_open_and_close(ledger, api):
    invoice_in(ledger, invoice_no="A-1")
    assert_problem(post(api, ledger, "dispute/", {}), 400, "validation_failed", "reason")
    response = post(api, ledger, "dispute/", {"reason": "never received the goods"})
    assert response.status_code == 200 and response.json()["status"] == "disputed"
    assert_problem(post(api, ledger, "dispute/", {"reason": "again"}), 409, "already_disputed")
    response = post(api, ledger, "dispute/close/", {"reason": "goods delivered"})
    assert response.status_code == 200 and response.json()["status"] == "open"
    assert_problem(post(api, ledger, "dispute/close/", {}), 409, "not_disputed")


def test_credit_part_and_then_the_rest(ledger, api):
    invoice = invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"))
    response = post(api, ledger, "credit/", {"amount": "400.00", "reason": "returned goods"})
    assert response.status_code == 200, response.content
    assert response.json()["amounts"]["capital"] == "600.00"
    assert_problem(post(api, ledger, "credit/", {"amount": "600.01"}), 422, "credit_exceeds_open", "amount")
    assert_problem(post(api, ledger, "credit/", {"amount": "0"}), 400, "validation_failed", "amount")
    assert_problem(post(api, ledger, "credit/", {"cause": "Whim"}), 400, "validation_failed", "cause")
    response = post(api, ledger, "credit/", {})
    assert response.json()["status"] == "closed" and response.json()["amounts"]["open"] == "0.00"
    assert JournalTransaction.objects.filter(invoice=invoice, kind=TransactionKind.CREDIT).count() == 2
    assert_problem(post(api, ledger, "credit/", {}), 409, "invoice_closed")


def test_write_off_costs_first(ledger, api):
    invoice = invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"))
    book_costs(invoice, fee=Decimal("35.00"), interest=Decimal("5.00"))
    assert_problem(post(api, ledger, "write-off/", {"amount": "10.00"}), 400, "validation_failed", "cause")
    response = post(api, ledger, "write-off/", {"cause": "Settlement", "amount": "40.00", "reason": "deal"})
    assert response.status_code == 200, response.content
    assert response.json()["amounts"] == {
        "capital": "1000.00",
        "fees": "0.00",
        "interest": "0.00",
        "open": "1000.00",
    }
    assert_problem(
        post(api, ledger, "write-off/", {"cause": "Settlement", "amount": "1000.01"}),
        422,
        "write_off_exceeds_open",
        "amount",
    )
    response = post(api, ledger, "write-off/", {"cause": "Bankruptcy"})
    assert response.json()["status"] == "closed"


def test_same_idempotency_key_and_body_books_once_and_replays_the_answer(ledger, api):
    invoice = invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"))
    first = post(api, ledger, "credit/", {"amount": "100.00"}, **{"Idempotency-Key": "k-1"})
    again = post(api, ledger, "credit/", {"amount": "100.00"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert JournalTransaction.objects.filter(invoice=invoice, kind=TransactionKind.CREDIT).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).events.filter(kind="credited").count() == 1


def test_same_idempotency_key_with_another_body_or_endpoint_is_409(ledger, api):
    invoice = invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"))
    post(api, ledger, "credit/", {"amount": "100.00"}, **{"Idempotency-Key": "k-1"})
    other_body = post(api, ledger, "credit/", {"amount": "200.00"}, **{"Idempotency-Key": "k-1"})
    assert_problem(other_body, 409, "idempotency_key_reused")
    other_endpoint = post(api, ledger, "dispute/", {"amount": "100.00"}, **{"Idempotency-Key": "k-1"})
    assert_problem(other_endpoint, 409, "idempotency_key_reused")
    assert JournalTransaction.objects.filter(invoice=invoice, kind=TransactionKind.CREDIT).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN


def test_an_error_answer_is_replayed_too_and_keys_are_per_token(ledger, api):
    from .conftest import client_with, token_for

    invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"))
    first = post(api, ledger, "credit/", {"amount": "5000.00"}, **{"Idempotency-Key": "k-2"})
    assert_problem(first, 422, "credit_exceeds_open")
    again = post(api, ledger, "credit/", {"amount": "5000.00"}, **{"Idempotency-Key": "k-2"})
    assert again.json() == first.json() and again["Content-Type"] == "application/problem+json"
    # Another token may use the same key for its own request.
    second_token = client_with(token_for(ledger, write=True))
    response = post(second_token, ledger, "credit/", {"amount": "10.00"}, **{"Idempotency-Key": "k-2"})
    assert response.status_code == 200
    assert IdempotencyRecord.objects.filter(key="k-2").count() == 2


def test_a_bad_idempotency_key_is_refused(ledger, api):
    invoice_in(ledger, invoice_no="A-1")
    response = post(api, ledger, "credit/", {"amount": "1.00"}, **{"Idempotency-Key": "x" * 256})
    assert_problem(response, 400, "invalid_idempotency_key")
    assert not JournalTransaction.objects.filter(kind=TransactionKind.CREDIT).exists()


@time_machine.travel(TODAY, tick=False)
def test_an_invoice_number_with_a_slash_is_addressed_as_it_is_or_encoded(ledger, api, other_api):
    """CUSIN allows "2026/0001": the detail, its events and its actions find it, sent with the slash or as
    %2F; one whose number ends like a route below it by the list's filter; another client's not at all."""
    invoice_in(ledger, invoice_no="2026/0001")
    invoice_in(ledger, invoice_no="2026/events")
    for path in ("invoices/2026/0001/", "invoices/2026%2F0001/"):
        answer = api.get(url(ledger, path))
        assert answer.status_code == 200, answer.content
        assert answer.json()["invoice_no"] == "2026/0001"
    events = api.get(url(ledger, "invoices/2026/0001/events/"))
    assert events.status_code == 200 and events.json()["results"][0]["kind"] == "registered"
    disputed = api.post(url(ledger, "invoices/2026%2F0001/dispute/"), {"reason": "wrong"}, format="json")
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    # "2026/events" reads as the events of invoice 2026: the list's filter finds any number
    assert_problem(api.get(url(ledger, "invoices/2026/events/")), 404, "invoice_not_found")
    found = api.get(url(ledger, "invoices/"), {"invoice_no": "2026/events"}).json()["results"]
    assert [row["invoice_no"] for row in found] == ["2026/events"]
    assert_problem(api.get(url(ledger, "invoices/2026/0002/")), 404, "invoice_not_found")
    assert other_api.get(url(ledger, "invoices/2026/0001/")).status_code in (403, 404)
