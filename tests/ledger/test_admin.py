"""The Django admin's ledger: added through the onboarding service (with its chart of accounts), so the
API can register invoices on it at once; bad numbers are the form's errors, and nothing is written."""

import pytest
import time_machine

from ledger.models import Account, Client, Ledger
from tests.api.conftest import client_with, token_for
from tests.factories import CustomerFactory, DocumentFactory, UserFactory
from tests.helpers import sign_in


def add_form(client_id, **fields):
    return {
        "client": client_id,
        "company_no": "4242",
        "ledger_no": "424242",
        "name": "Admin-made ledger",
        "country": "NO",
        "currency": "",
        "client_funds_account": "86011117947",
        **fields,
    }


@time_machine.travel("2026-03-01 10:00:00+00:00", tick=False)
def test_a_ledger_added_in_the_admin_gets_its_chart_and_takes_invoices(client, db):
    owner = Client.objects.create(name="Admin client")
    sign_in(client, UserFactory(client=None, is_staff=True, is_superuser=True))
    answer = client.post("/admin/ledger/ledger/add/", add_form(owner.pk))
    assert answer.status_code == 302, answer.content.decode()[:2000]

    ledger = Ledger.objects.get(company_no="4242")
    assert (ledger.client, ledger.currency, ledger.reference_scheme) == (owner, "NOK", "kid_mod10")
    assert Account.objects.filter(ledger=ledger).exclude(role="").count() > 10

    api = client_with(token_for(ledger, write=True))
    assert api.post("/api/v1/ledgers/4242/customers/", {"customer_no": "1", "name": "Kari Nordmann"},
                    format="json").status_code == 201  # fmt: skip
    registered = api.post(
        "/api/v1/ledgers/4242/invoices/",
        {"customer_no": "1", "invoice_no": "A-1", "invoice_date": "2026-03-01", "amount": "100.00"},
        format="json",
    )
    assert registered.status_code == 201, registered.content


def test_bad_numbers_are_the_admin_forms_errors_and_write_nothing(client, db):
    owner = Client.objects.create(name="Admin client")
    sign_in(client, UserFactory(client=None, is_staff=True, is_superuser=True))
    answer = client.post("/admin/ledger/ledger/add/", add_form(owner.pk, ledger_no="0123"))
    assert answer.status_code == 200
    assert "ledger_no must be 1-9 digits without a leading zero" in answer.content.decode()
    assert not Ledger.objects.filter(company_no="4242").exists()


def test_a_ledger_without_its_chart_gets_a_coded_problem_not_a_500(db):
    """A bare row (as the admin used to make): the API names what is missing, in problem+json."""
    owner = Client.objects.create(name="Legacy client")
    ledger = Ledger.objects.create(client=owner, company_no="4343", ledger_no="434343", name="Bare", country="NO",
                                   currency="NOK", time_zone="Europe/Oslo", reference_scheme="kid_mod10")  # fmt: skip
    CustomerFactory(ledger=ledger, customer_no="1")
    api = client_with(token_for(ledger, write=True))
    answer = api.post(
        "/api/v1/ledgers/4343/invoices/",
        {"customer_no": "1", "invoice_no": "A-1", "invoice_date": "2026-03-01", "amount": "100.00"},
        format="json",
    )
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.status_code == 422 and answer.json()["code"] == "ledger_chart_missing"
    assert "create_ledger" in answer.json()["detail"]


def test_every_admin_model_has_a_proper_plural():
    """ "Claim settingss", "Print batchs": a plural made by adding an s to a word that has one already."""
    from django.contrib import admin

    wrong = [
        str(model._meta.verbose_name_plural)
        for model in admin.site._registry
        if str(model._meta.verbose_name_plural).endswith(("ss", "chs", "shs", "xs"))
    ]
    assert wrong == []


def test_create_ledger_records_the_clients_organisation_number_and_vat_registration(db):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_ledger", "--company-no", "5151", "--ledger-no", "515151", "--country", "NO",
                 "--name", "Fakturering AS", "--org-no", "923 609 016", "--vat-registered", stdout=out)  # fmt: skip
    answer = json.loads(out.getvalue())
    assert (answer["client_org_no"], answer["client_vat_registered"]) == ("923609016", True)
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("create_ledger", "--company-no", "5252", "--ledger-no", "525252", "--country", "NO",
                     "--name", "Feil AS", "--org-no", "923609017", stdout=err)  # fmt: skip
    assert "is not a valid NO organisation number" in err.getvalue()
    assert not Ledger.objects.filter(company_no="5252").exists()



def test_a_client_user_made_staff_gets_no_admin_page_of_any_clients_rows(client, db):
    """The admin is our staff's: a client's user, even marked staff, is refused it (and every admin of a
    client's rows is scoped to the user's client besides)."""
    theirs = DocumentFactory()
    sign_in(client, UserFactory(is_staff=True, is_superuser=True))
    for url in ("/admin/distribution/document/", f"/admin/distribution/document/{theirs.pk}/change/"):
        answer = client.get(url, follow=True)
        assert answer.status_code == 403
        assert theirs.source_key not in answer.content.decode()
