"""Payments: matched and unidentified listed; an unidentified payment allocated by the same service
as the worklist."""

from decimal import Decimal

from ledger.models import Payment
from ledger.payments.selectors import payment_unallocated
from tests.factories import CustomerFactory
from tests.ledger.test_payments_import import book, ocr_file, pay, stray_kid

from .conftest import assert_problem, invoice_in, url


def payments_booked(ledger):
    customer = CustomerFactory(ledger=ledger, customer_no="1234567")
    paid = invoice_in(ledger, customer=customer, invoice_no="P-1", amount=Decimal("100.00"))
    open_invoice = invoice_in(ledger, customer=customer, invoice_no="P-2", amount=Decimal("300.00"))
    book(ocr_file([pay(paid.payment_ref, "100.00", "000000001"), pay(stray_kid(), "250.00", "000000002")]))
    matched = Payment.objects.get(ledger=ledger, invoice=paid)
    unidentified = Payment.objects.get(ledger=ledger, status=Payment.Status.UNIDENTIFIED)
    return matched, unidentified, open_invoice


def test_list_matched_and_unidentified(ledger, read_api):
    matched, unidentified, _ = payments_booked(ledger)
    body = read_api.get(url(ledger, "payments/")).json()
    assert {p["id"] for p in body["results"]} == {matched.id, unidentified.id}
    body = read_api.get(url(ledger, "payments/?status=unidentified")).json()
    assert [(p["id"], p["unallocated"], p["invoice_no"]) for p in body["results"]] == [
        (unidentified.id, "250.00", None)
    ]
    body = read_api.get(url(ledger, "payments/?status=allocated")).json()
    assert [(p["id"], p["invoice_no"], p["unallocated"], p["outcome"]) for p in body["results"]] == [
        (matched.id, "P-1", "0.00", "exact")
    ]
    assert read_api.get(url(ledger, f"payments/{matched.id}/")).json()["customer_no"] == "1234567"
    assert_problem(read_api.get(url(ledger, "payments/?status=lost")), 400, "validation_failed", "status")
    assert_problem(read_api.get(url(ledger, "payments/999999/")), 404, "payment_not_found")


def test_allocate_an_unidentified_payment(ledger, api):
    _, unidentified, invoice = payments_booked(ledger)
    path = url(ledger, f"payments/{unidentified.id}/allocate/")
    assert_problem(api.post(path, {"allocations": [{"invoice_no": "P-2"}]}, format="json"), 400,
                   "validation_failed", "reason")  # fmt: skip
    missing = {"allocations": [{"invoice_no": "NOPE"}], "reason": "phoned"}
    assert_problem(
        api.post(path, missing, format="json"), 422, "invoice_not_found", "allocations[0].invoice_no"
    )
    too_much = {"allocations": [{"invoice_no": "P-2", "amount": "260.00"}], "reason": "phoned"}
    assert_problem(api.post(path, too_much, format="json"), 422, "allocation_exceeds_unallocated", "amount")
    assert payment_unallocated(payment=unidentified) == Decimal("250.00")

    response = api.post(
        path, {"allocations": [{"invoice_no": "P-2"}], "reason": "customer phoned"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "allocated" and body["unallocated"] == "0.00" and body["invoice_no"] == "P-2"
    assert api.get(url(ledger, "invoices/P-2/")).json()["amounts"]["open"] == "50.00"
    again = api.post(path, {"allocations": [{"invoice_no": "P-2"}], "reason": "again"}, format="json")
    assert_problem(again, 409, "payment_not_unidentified")


def test_another_clients_payment_is_not_found(ledger, other_ledger, api):
    _, unidentified, _ = payments_booked(ledger)
    other_url = f"/api/v1/ledgers/{ledger.company_no}/payments/{unidentified.id}/"
    assert api.get(other_url).status_code == 200
    assert_problem(api.get(f"/api/v1/ledgers/{other_ledger.company_no}/payments/{unidentified.id}/"), 404,
                   "ledger_not_found")  # fmt: skip
