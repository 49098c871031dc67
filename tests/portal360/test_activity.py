"""The action log as the faces write it (payex_ledger.middleware): every request that changed data or
read it through the API or a download, by whom, for which client, with a request id that the answer and
the logs carry; and the client administrators' page and export of their own client's log."""

import csv
import io
import json
import logging

import pytest

from api.services import api_token_create
from ledger.models import ActionLogEntry, UserRole
from payex_ledger.logs import JsonFormatter, RequestIdFilter
from tests.helpers import sign_in

from .conftest import make_user


@pytest.fixture
def admin(client, ledger):
    sign_in(client, make_user(ledger, UserRole.CLIENT_ADMIN, username="anna"))
    return client


def test_a_change_in_360_is_logged_with_its_fields_masked_and_its_request_id(admin, ledger):
    answer = admin.post("/360/company/tokens/new/", {"ledger": ledger.company_no, "name": "ERP", "password": "x"},
                        HTTP_X_REQUEST_ID="proxy-req-0001")  # fmt: skip
    assert answer["X-Request-ID"] == "proxy-req-0001"
    row = ActionLogEntry.objects.get(path="/360/company/tokens/new/")
    assert (row.actor, row.client_id, row.channel, row.kind, row.method, row.status, row.request_id) == (
        "anna",
        ledger.client_id,
        "360",
        "change",
        "POST",
        answer.status_code,
        "proxy-req-0001",
    )
    assert row.params == {"ledger": ledger.company_no, "name": "ERP", "password": "***"}
    assert row.view == "portal360:company_token_create" and row.ip == "127.0.0.1"


def test_looking_at_a_page_is_not_logged_but_a_download_is(admin, ledger):
    assert admin.get("/360/company/").status_code == 200
    assert not ActionLogEntry.objects.exists()
    answer = admin.get("/360/company/activity.csv")
    b"".join(answer.streaming_content)
    row = ActionLogEntry.objects.get()
    assert (row.kind, row.path, row.actor) == ("reveal", "/360/company/activity.csv", "anna")


def test_an_api_read_and_write_are_logged_for_the_tokens_client_and_a_refusal_too(
    client, ledger, invoice, other_ledger
):
    token, secret = api_token_create(client=ledger.client, ledger=ledger, can_write=True, name="ERP")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get(f"/api/v1/ledgers/{ledger.company_no}/invoices/F-1001/", **auth).status_code == 200
    refused = client.get(f"/api/v1/ledgers/{other_ledger.company_no}/invoices/F-1001/", **auth)
    assert refused.status_code in (403, 404)
    posted = client.post(
        f"/api/v1/ledgers/{ledger.company_no}/customers/",
        data=json.dumps({"customer_no": "77", "name": "Ola", "national_id": "01019012345"}),
        content_type="application/json",
        **auth,
    )
    rows = list(ActionLogEntry.objects.order_by("id"))
    assert [(r.kind, r.method, r.status, r.client_id, r.ledger_id) for r in rows] == [
        ("reveal", "GET", 200, ledger.client_id, ledger.pk),
        ("reveal", "GET", refused.status_code, ledger.client_id, None),  # not the other client's ledger
        ("change", "POST", posted.status_code, ledger.client_id, ledger.pk),
    ]
    assert {r.actor for r in rows} == {f"token {token.prefix}"}
    assert rows[2].params["national_id"] == "•••••••2345" and rows[2].params["name"] == "Ola"
    assert not ActionLogEntry.objects.filter(client=other_ledger.client).exists()


def test_a_client_administrator_sees_and_exports_only_their_clients_log(admin, client, ledger, other_ledger):
    other = client.__class__()
    sign_in(other, make_user(other_ledger, UserRole.CLIENT_ADMIN, username="olle", email="olle@example.se"))
    other.post("/360/company/tokens/new/", {"ledger": other_ledger.company_no, "name": "Theirs"})
    admin.post("/360/company/tokens/new/", {"ledger": ledger.company_no, "name": "Ours"})
    page = admin.get("/360/company/activity/").content.decode()
    assert "/360/company/tokens/new/" in page and "anna" in page and "olle" not in page
    rows = list(csv.reader(io.StringIO(b"".join(admin.get("/360/company/activity.csv").streaming_content)
                                       .decode("utf-8-sig")), delimiter=";"))  # fmt: skip
    assert rows[0][:4] == ["id", "created_at", "request_id", "actor"]
    assert {r[3] for r in rows[1:]} == {"anna"} and all('"Theirs"' not in ";".join(r) for r in rows)


def test_only_administrators_see_the_log(client, ledger):
    sign_in(client, make_user(ledger, UserRole.OPERATOR, username="olivia"))
    assert client.get("/360/company/activity/").status_code == 403
    assert client.get("/360/company/activity.csv").status_code == 403


def test_a_log_line_is_json_with_the_request_id():
    record = logging.LogRecord("ledger.x", logging.WARNING, __file__, 1, "paid %s", ("F-1",), None)
    record.invoice_no = "F-1"
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["level"], line["request_id"], line["invoice_no"]) == (
        "paid F-1",
        "WARNING",
        "-",
        "F-1",
    )


def test_a_national_id_is_shown_in_full_only_on_asking_and_the_asking_is_logged(admin, ledger, customer):
    url = f"/360/l/{ledger.company_no}/customers/{customer.customer_no}/"
    page = admin.get(url).content.decode()
    assert customer.national_id not in page and "•••••••2345" in page
    assert not ActionLogEntry.objects.exists()
    page = admin.get(url + "?reveal=national_id").content.decode()
    assert customer.national_id in page
    row = ActionLogEntry.objects.get()
    assert (row.kind, row.actor, row.ledger_id, row.params, row.target["customer_no"]) == (
        "reveal", "anna", ledger.pk, {"reveal": "national_id"}, customer.customer_no
    )
