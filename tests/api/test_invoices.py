"""Invoices: list with filters, ordering and cursor pages; get by number and by external id; events;
registration by JSON (one or many), all or nothing."""

from datetime import date
from decimal import Decimal

import time_machine

from ledger.models import Invoice, InvoiceStatus, JournalTransaction
from ledger.services.respite_dispute import invoice_dispute_open
from tests.factories import CustomerFactory
from tests.helpers import book_costs

from .conftest import assert_problem, invoice_in, url


def test_get_invoice_shows_amounts_by_component_and_payment_information(ledger, read_api):
    invoice = invoice_in(ledger, invoice_no="A-1", amount=Decimal("1000.00"), external_id="ext-1")
    book_costs(invoice, fee=Decimal("35.00"), interest=Decimal("2.50"))
    response = read_api.get(url(ledger, "invoices/A-1/"))
    assert response.status_code == 200
    body = response.json()
    assert body["invoice_no"] == "A-1" and body["external_id"] == "ext-1" and body["status"] == "open"
    assert body["amounts"] == {"capital": "1000.00", "fees": "35.00", "interest": "2.50", "open": "1037.50"}
    assert body["payment"] == {
        "account": ledger.client_funds_account,
        "reference": invoice.payment_ref,
        "amount_due": "1037.50",
        "currency": "NOK",
    }
    assert body["customer_no"] == invoice.customer.customer_no
    assert body["due_date"] == "2026-01-19"


def test_get_by_external_id(ledger, read_api):
    invoice_in(ledger, invoice_no="A-1", external_id="order-77")
    invoice_in(ledger, invoice_no="A-2", external_id="twice")
    invoice_in(ledger, invoice_no="A-3", external_id="twice")
    response = read_api.get(url(ledger, "invoices-by-external-id/order-77/"))
    assert response.status_code == 200 and response.json()["invoice_no"] == "A-1"
    assert_problem(read_api.get(url(ledger, "invoices-by-external-id/nope/")), 404, "invoice_not_found")
    assert_problem(
        read_api.get(url(ledger, "invoices-by-external-id/twice/")),
        422,
        "external_id_not_unique",
        "external_id",
    )


def test_list_filters_by_status_customer_and_dates(ledger, read_api):
    alice = CustomerFactory(ledger=ledger, customer_no="2001")
    bob = CustomerFactory(ledger=ledger, customer_no="2002")
    invoice_in(ledger, customer=alice, invoice_no="A-1", invoice_date=date(2026, 1, 5))
    disputed = invoice_in(ledger, customer=alice, invoice_no="A-2", invoice_date=date(2026, 2, 5))
    invoice_in(ledger, customer=bob, invoice_no="B-1", invoice_date=date(2026, 3, 5))
    invoice_dispute_open(invoice=disputed, actor="test", reason="wrong amount")

    def numbers(query: str) -> list[str]:
        response = read_api.get(url(ledger, f"invoices/?{query}"))
        assert response.status_code == 200, response.content
        return [i["invoice_no"] for i in response.json()["results"]]

    assert numbers("") == ["A-1", "A-2", "B-1"]
    assert numbers("status=disputed") == ["A-2"]
    assert numbers("customer=2001") == ["A-1", "A-2"]
    assert numbers("invoice_date_from=2026-02-01") == ["A-2", "B-1"]
    assert numbers("due_to=2026-02-28") == ["A-1", "A-2"]
    assert numbers("due_from=2026-02-01&due_to=2026-02-28&customer=2001") == ["A-2"]
    assert numbers("ordering=-due_date") == ["B-1", "A-2", "A-1"]
    assert numbers("ordering=-invoice_no") == ["B-1", "A-2", "A-1"]


def test_list_filter_errors_name_the_parameter(ledger, read_api):
    assert_problem(read_api.get(url(ledger, "invoices/?status=lost")), 400, "validation_failed", "status")
    assert_problem(
        read_api.get(url(ledger, "invoices/?due_from=yesterday")), 400, "validation_failed", "due_from"
    )
    assert_problem(
        read_api.get(url(ledger, "invoices/?ordering=amount")), 400, "validation_failed", "ordering"
    )
    assert_problem(read_api.get(url(ledger, "invoices/?limit=0")), 400, "validation_failed", "limit")
    assert_problem(read_api.get(url(ledger, "invoices/?cursor=garbage")), 400, "validation_failed", "cursor")


def test_cursor_pages_walk_the_whole_list_once_in_order(ledger, read_api):
    customer = CustomerFactory(ledger=ledger)
    # Several invoices share a due date: the cursor must break the tie by id, losing none.
    for n in range(7):
        invoice_in(ledger, customer=customer, invoice_no=f"P-{n}", invoice_date=date(2026, 1, 1 + n // 3))
    seen, link, pages = [], url(ledger, "invoices/?limit=3&ordering=-due_date"), 0
    while link:
        response = read_api.get(link)
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 3
        seen += [i["invoice_no"] for i in body["results"]]
        link, pages = body["next"], pages + 1
    assert pages == 3
    assert sorted(seen) == [f"P-{n}" for n in range(7)] and len(set(seen)) == 7
    due = [Invoice.objects.get(invoice_no=n).due_date for n in seen]
    assert due == sorted(due, reverse=True)


def test_a_cursor_of_another_ordering_is_refused(ledger, read_api):
    customer = CustomerFactory(ledger=ledger)
    for n in range(3):
        invoice_in(ledger, customer=customer, invoice_no=f"P-{n}")
    link = read_api.get(url(ledger, "invoices/?limit=1")).json()["next"]
    response = read_api.get(link.replace("limit=1", "limit=1&ordering=invoice_no"))
    assert_problem(response, 400, "validation_failed", "cursor")


def test_events_list_who_when_and_why(ledger, read_api):
    invoice = invoice_in(ledger, invoice_no="A-1")
    invoice_dispute_open(invoice=invoice, actor="operator-1", reason="customer says paid")
    response = read_api.get(url(ledger, "invoices/A-1/events/"))
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["kind"] for e in events] == ["registered", "dispute_opened"]
    assert events[1]["actor"] == "operator-1" and events[1]["reason"] == "customer says paid"
    assert events[1]["from_status"] == "open" and events[1]["to_status"] == "disputed"
    assert_problem(read_api.get(url(ledger, "invoices/NOPE/events/")), 404, "invoice_not_found")


@time_machine.travel("2026-03-01 10:00:00+00:00", tick=False)
def test_register_one_invoice_by_json(ledger, api):
    CustomerFactory(ledger=ledger, customer_no="3001")
    response = api.post(
        url(ledger, "invoices/"),
        {
            "customer_no": "3001",
            "invoice_no": "J-1",
            "invoice_date": "2026-03-01",
            "amount": "1250.00",
            "external_id": "order-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["invoice_no"] == "J-1" and body["amounts"]["capital"] == "1250.00"
    assert body["due_date"] == "2026-03-15" and body["payment"]["reference"]
    invoice = Invoice.objects.get(ledger=ledger, invoice_no="J-1")
    assert invoice.status == InvoiceStatus.OPEN and invoice.external_id == "order-1"
    txn = JournalTransaction.objects.get(invoice=invoice)
    assert txn.actor.startswith("api:plt_")


def test_register_validation_errors_name_the_field(ledger, api):
    CustomerFactory(ledger=ledger, customer_no="3001")
    good = {"customer_no": "3001", "invoice_no": "J-1", "invoice_date": "2026-03-01", "amount": "100.00"}
    cases = [
        ({**good, "amount": "-5"}, 400, "amount"),
        ({**good, "amount": "1.005"}, 400, "amount"),
        ({k: v for k, v in good.items() if k != "invoice_date"}, 400, "invoice_date"),
        ({**good, "invoice_no": "x" * 41}, 400, "invoice_no"),
        ({**good, "customer_no": "nobody"}, 422, "customer_no"),
        ({**good, "due_date": "2026-02-01"}, 422, "due_date"),
        ({**good, "currency": "SEK"}, 422, "currency"),
    ]
    for data, status, field in cases:
        response = api.post(url(ledger, "invoices/"), data, format="json")
        assert_problem(response, status, response.json()["code"], field)
    assert not Invoice.objects.filter(ledger=ledger).exists()


def test_register_many_is_all_or_nothing(ledger, api):
    CustomerFactory(ledger=ledger, customer_no="3001")
    CustomerFactory(ledger=ledger, customer_no="3002")
    item = {"invoice_date": "2026-03-01", "amount": "100.00"}
    batch = [
        {**item, "customer_no": "3001", "invoice_no": "M-1"},
        {**item, "customer_no": "3002", "invoice_no": "M-2"},
        {**item, "customer_no": "3009", "invoice_no": "M-3"},
    ]
    response = api.post(url(ledger, "invoice-batches/"), {"invoices": batch}, format="json")
    assert_problem(response, 422, "customer_not_found", "invoices[2].customer_no")
    bad_amount = [batch[0], {**batch[1], "amount": "zero"}]
    response = api.post(url(ledger, "invoice-batches/"), {"invoices": bad_amount}, format="json")
    assert_problem(response, 400, "validation_failed", "invoices[1].amount")
    assert not Invoice.objects.filter(ledger=ledger).exists()

    response = api.post(url(ledger, "invoice-batches/"), {"invoices": batch[:2]}, format="json")
    assert response.status_code == 201, response.content
    assert [i["invoice_no"] for i in response.json()["invoices"]] == ["M-1", "M-2"]
    assert Invoice.objects.filter(ledger=ledger).count() == 2

    response = api.post(url(ledger, "invoice-batches/"), {"invoices": batch[:1]}, format="json")
    assert_problem(response, 422, "duplicate_invoice_no", "invoice_no")
    assert_problem(api.post(url(ledger, "invoice-batches/"), {"invoices": []}, format="json"), 400,
                   "validation_failed", "invoices")  # fmt: skip


def test_an_invoice_shows_its_claim_level_next_event_and_accrued_interest(ledger, read_api):
    from claims.services.escalation import claims_escalate

    invoice = invoice_in(ledger, invoice_no="C-1", amount=Decimal("1000.00"), invoice_date=date(2026, 9, 1))
    for day in (date(2026, 9, 18), date(2026, 10, 3)):  # the SMS (due + 3), the collection notice (due + 18)
        claims_escalate(ledger=ledger, as_of=day)

    with time_machine.travel(date(2026, 10, 10)):
        body = read_api.get(url(ledger, "invoices/C-1/")).json()
        listed = read_api.get(url(ledger, "invoices/?status=open")).json()

    assert invoice.due_date == date(2026, 9, 15)
    assert body["claim_level"] == "collection_notice"
    # The payment demand: four days after the notice's 14-day deadline, with the light fee for NOK 1,000.
    assert body["next_event"] == {"kind": "payment_demand", "date": "2026-10-21", "amount": "245.00"}
    # 12.00 % from 16 September through 10 October: 25 days of NOK 1,000.
    assert body["accrued_interest"] == "8.22"
    assert body["amounts"]["fees"] == "35.00"
    assert [i["claim_level"] for i in listed["results"] if i["invoice_no"] == "C-1"] == ["collection_notice"]


def test_an_invoice_may_name_another_payer_of_the_ledger(ledger, api, other_ledger):
    CustomerFactory(ledger=ledger, customer_no="3001")
    CustomerFactory(ledger=ledger, customer_no="3002", name="Kommunen")
    CustomerFactory(ledger=other_ledger, customer_no="3003")
    good = {"customer_no": "3001", "invoice_no": "P-1", "invoice_date": "2026-03-01", "amount": "100.00"}

    response = api.post(url(ledger, "invoices/"), {**good, "payer_customer_no": "3002"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["payer_customer_no"] == "3002"
    assert Invoice.objects.get(ledger=ledger, invoice_no="P-1").payer.customer_no == "3002"
    listed = api.get(url(ledger, "invoices/")).json()["results"]
    assert [(i["invoice_no"], i["payer_customer_no"]) for i in listed] == [("P-1", "3002")]

    for payer, code in (("3003", "payer_not_found"), ("3001", "payer_is_customer")):  # another ledger's; own
        data = {**good, "invoice_no": f"P-{payer}", "payer_customer_no": payer}
        assert_problem(api.post(url(ledger, "invoices/"), data, format="json"), 422, code)
    assert Invoice.objects.filter(ledger=ledger).count() == 1
