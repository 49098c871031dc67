"""Autogiro mandates out (seeds 002): a customer who signs up in the invoice portal gets a new-mandate
record (TK04) in the next transmission to Bankgirot, and the consent waits for Bankgirot's answer: its
mandate notice approves it (the consent becomes active) or refuses it; the Customer Journal reports both."""

import time_machine
from django.test import Client

from ledger.models import AutogiroMandateRequest, ConsentKind, CustomerConsent, CustomerEvent
from ledger.outbox import company_dir
from ledger.payments.bankfiles import autogiro
from ledger.payments.direct_debit.claims import debit_claims_send
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import sign_in
from tests.ledger.test_direct_debit_schemes import (  # noqa: F401 (fixtures)
    BANKGIRO,
    DAY,
    PNR,
    data_dir,
    import_file,
    swedish,
)

ANNA, BO = PNR, "197001011233"


def confirm_page(client, ledger, national_id: str) -> str:
    """Through the portal's sign-up to its confirmation page (identified by the test BankID)."""
    bankid = client.post(f"/p/direct-debit/{ledger.company_no}/?returnUrl=https://client.example/x")["Location"]
    identified = client.post(bankid, {"nid": national_id})["Location"]
    return client.get(identified)["Location"]


def sign_up(ledger, national_id: str, account: str) -> None:
    client = Client()
    done = client.post(confirm_page(client, ledger, national_id), {"decision": "sign", "account": account})
    assert done.status_code == 302, done.content.decode()[:500]


@time_machine.travel(DAY, tick=False)
def test_a_portal_sign_up_goes_to_bankgirot_and_the_answer_decides_the_consent(swedish):  # noqa: F811
    anna = CustomerFactory(ledger=swedish, name="Anna", national_id=ANNA)
    bo = CustomerFactory(ledger=swedish, name="Bo", national_id=BO)
    sign_up(swedish, ANNA, "8327-9, 123 456 789-0")  # a Swedbank account: five-digit clearing
    sign_up(swedish, BO, "6000 123456789")
    sign_up(swedish, BO, "6000 123456789")  # again while the first waits: the same request

    assert not CustomerConsent.objects.filter(kind=ConsentKind.AUTOGIRO_SE, active=True).exists()
    assert list(AutogiroMandateRequest.objects.order_by("id").values_list("customer__name", "status")) == [
        ("Anna", "pending"), ("Bo", "pending")]  # fmt: skip

    summary = debit_claims_send(ledger=swedish, as_of=DAY, actor="test")

    assert summary["mandates"] == 2 and summary["claims"] == 0
    content = (company_dir(swedish.company_no, "outbox") / summary["mandate_file"]).read_bytes()
    assert [line[:2] for line in content.decode("iso-8859-1").splitlines()] == ["01", "04", "04"]
    assert [(m.payer_number, m.clearing, m.account, m.national_id) for m in autogiro.parse_mandate_requests(content)] == [
        (ANNA, "8327", "1234567890", ANNA), (BO, "6000", "123456789", BO)]  # fmt: skip
    assert set(AutogiroMandateRequest.objects.values_list("status", flat=True)) == {"sent"}
    assert debit_claims_send(ledger=swedish, as_of=DAY, actor="test")["mandates"] == 0  # sent once

    notices = autogiro.mandate_notices_file(day=DAY, customer_number="123456", bankgiro=BANKGIRO,
                                            mandates=[(ANNA, ANNA, "32"), (BO, BO, "03")])  # fmt: skip
    summary = import_file(notices, name="medavi.txt")

    assert (summary["activated"], summary["cancelled"]) == (1, 1)
    assert CustomerConsent.objects.get(customer=anna, kind=ConsentKind.AUTOGIRO_SE).active
    assert not CustomerConsent.objects.filter(customer=bo, active=True).exists()
    answers = dict(AutogiroMandateRequest.objects.values_list("customer__name", "status"))
    assert answers == {"Anna": "approved", "Bo": "refused"}
    refused = CustomerEvent.objects.get(customer=bo, kind="consent_cancelled")
    assert refused.new_value["mandate"] == "refused" and "medavi.txt" in refused.reason
    assert CustomerEvent.objects.filter(customer=anna, kind="consent_activated").exists()

    operator = UserFactory(client=swedish.client)
    browser = Client()
    sign_in(browser, operator)
    page = browser.get(f"/360/l/{swedish.company_no}/customers/{bo.customer_no}/").content.decode()
    assert "Autogiro mandate" in page and "refused by Bankgirot" in page and "AGMEDGIV_" in page


@time_machine.travel(DAY, tick=False)
def test_a_bad_account_is_the_forms_error_and_nothing_waits(swedish):  # noqa: F811
    CustomerFactory(ledger=swedish, national_id=ANNA)
    client = Client()
    page = client.post(confirm_page(client, swedish, ANNA), {"decision": "sign", "account": "12"})
    assert page.status_code == 400 and not AutogiroMandateRequest.objects.exists()
    assert "Kontrollera kontonumret." in page.content.decode()  # in the ledger's language
