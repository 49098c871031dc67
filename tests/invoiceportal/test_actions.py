"""The customer's actions: each one recorded where operators look, and a refused one writes nothing."""

from datetime import date

from django.test import Client

from invoiceportal.models import PortalSettings, RespiteRequest
from invoiceportal.selectors import respite_worklist
from invoiceportal.services import respite_request_decide
from ledger.models import CustomerEvent, InvoiceEvent, InvoiceStatus
from tests.invoiceportal.conftest import verify_problems


def post(token, action, **data):
    return Client().post(f"/p/{token}/{action}/", data)


def counts():
    return (InvoiceEvent.objects.count(), CustomerEvent.objects.count(), RespiteRequest.objects.count())


def test_dispute_stops_the_claim_and_reaches_the_complaints_worklist(reminded):
    invoice, token = reminded
    response = post(token, "dispute", message="I returned the goods on 10 January.")
    assert response.status_code == 302 and response["Location"].endswith("?done=dispute")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED
    event = InvoiceEvent.objects.filter(invoice=invoice, kind="dispute_opened").get()
    assert event.actor == f"customer {invoice.customer.customer_no} (invoice portal)"
    assert "I returned the goods on 10 January." in event.reason
    page = Client().get(response["Location"]).content.decode()
    assert "Innsigelsen er registrert" in page
    assert "Bestrid fakturaen" not in page  # no second dispute form


def test_a_dispute_without_a_message_writes_nothing(reminded):
    invoice, token = reminded
    before = counts()
    response = post(token, "dispute", message="   ")
    assert response.status_code == 400
    assert "Skriv hva som er galt med fakturaen." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN and counts() == before


def test_a_second_dispute_is_refused_and_writes_nothing(reminded):
    invoice, token = reminded
    assert post(token, "dispute", message="wrong amount").status_code == 302
    before = counts()
    response = post(token, "dispute", message="still wrong")
    assert response.status_code == 409 and counts() == before


def test_respite_within_the_clients_rule_is_granted_at_once(reminded, today):
    invoice, token = reminded
    response = post(token, "respite", days="14")
    assert response.status_code == 302 and "done=respite" in response["Location"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 6))
    request = RespiteRequest.objects.get(invoice=invoice)
    assert (request.status, request.days) == ("approved", 14)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="respite_set").exists()


def test_longer_respite_goes_to_the_worklist_and_an_operator_decides(reminded, today):
    invoice, token = reminded
    PortalSettings.objects.create(ledger=invoice.ledger, respite_auto_days=7, respite_max_days=30)
    response = post(token, "respite", days="30")
    assert response.status_code == 302 and "done=respite_pending" in response["Location"]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    [waiting] = respite_worklist(ledger=invoice.ledger)
    assert (waiting.invoice_id, waiting.until) == (invoice.pk, date(2026, 3, 22))
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="respite_requested").exists()
    # Asking again while one waits changes nothing.
    before = counts()
    assert post(token, "respite", days="14").status_code == 409 and counts() == before
    respite_request_decide(request=waiting, grant=True, actor="operator")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 22))
    assert not respite_worklist(ledger=invoice.ledger).exists()


def test_respite_beyond_the_maximum_is_refused_and_writes_nothing(reminded):
    invoice, token = reminded
    before = counts()
    response = post(token, "respite", days="365")
    assert response.status_code == 400 and counts() == before
    assert "Så lang utsettelse kan ikke bes om her" in response.content.decode()


def test_contact_change_is_a_customer_event_with_old_and_new_values(reminded):
    invoice, token = reminded
    response = post(token, "contact", email="kari.ny@example.no", phone="+47 912 34 568")
    assert response.status_code == 302
    customer = invoice.customer
    customer.refresh_from_db()
    assert (customer.email, customer.phone) == ("kari.ny@example.no", "+4791234568")
    assert customer.address_line1 == "Storgata 1"  # the rest of the customer is untouched
    event = CustomerEvent.objects.get(customer=customer, kind="contact_changed")
    assert event.old_value == {"email": "kari@example.no", "phone": "+4791234567"}
    assert event.new_value == {"email": "kari.ny@example.no", "phone": "+4791234568"}


def test_a_bad_email_writes_nothing(reminded):
    invoice, token = reminded
    before = counts()
    response = post(token, "contact", email="not-an-address", phone="+4791234567")
    assert response.status_code == 400 and counts() == before
    invoice.customer.refresh_from_db()
    assert invoice.customer.email == "kari@example.no"
    assert "Sjekk e-postadressen." in response.content.decode()


def test_actions_need_a_valid_link(reminded):
    invoice, token = reminded
    before = counts()
    response = post("A" * 43, "dispute", message="x")
    assert response.status_code == 404 and counts() == before
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert verify_problems(invoice.ledger) == []


def test_odd_input_gets_a_clear_answer_never_a_500(reminded):
    invoice, token = reminded
    before = counts()
    assert post(token, "contact", email="a" * 250 + "@example.no").status_code == 400
    assert post(token, "respite", days="-3").status_code == 400
    assert post(token, "respite", days="1e9").status_code == 400
    assert post(token, "dispute", message="x" * 5000).status_code == 400
    assert post(token, "pay", invoice="999999999").status_code == 404
    assert Client().get(f"/p/{'z' * 5000}/").status_code == 404
    assert Client().get(f"/p/{token}/invoices/999999999/").status_code == 404
    assert counts() == before


def test_a_respite_extends_the_current_deadline_not_today(ledger_no, today, data_dir):
    """Due 10.03.2026 and asked on 20.02.2026: 7 days means until 17.03.2026, never a day before the due date."""
    from distribution.links import portal_link_issue
    from tests.factories import CustomerFactory
    from tests.invoiceportal.conftest import make_invoice

    customer = CustomerFactory(ledger=ledger_no, email="ola@example.no")
    invoice = make_invoice(ledger_no, customer=customer, due_date=date(2026, 3, 10))
    token = portal_link_issue(ledger_id=ledger_no.pk, customer_id=customer.pk, invoice_id=invoice.pk)
    page = Client().get(f"/p/{token}/").content.decode()
    assert "7 dager (17.03.2026)" in page and "(27.02.2026)" not in page
    assert post(token, "respite", days="7").status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.respite_until) == (InvoiceStatus.RESPITE, date(2026, 3, 17))
