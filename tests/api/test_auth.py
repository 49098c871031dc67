"""Tokens: created once and stored hashed, 401 without a valid one, read-only tokens cannot write,
another client's token never reaches the data, the per-token rate limit, the problem+json shape."""

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from api.models import ApiToken
from api.services import api_token_create, api_token_revoke, token_hash
from ledger.errors import NotFound, ValidationFailed
from ledger.models import Invoice
from tests.factories import LedgerFactory

from .conftest import PROBLEM, assert_problem, client_with, invoice_in, token_for, url


def test_create_api_token_prints_the_token_once_and_stores_only_its_hash(ledger):
    out = StringIO()
    call_command("create_api_token", "--ledger", ledger.company_no, "--write", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["ok"] and printed["write"] is True and printed["ledger"] == ledger.company_no
    secret = printed["token"]
    token = ApiToken.objects.get(pk=printed["id"])
    assert token.key_hash == token_hash(secret) and secret not in token.key_hash
    assert not ApiToken.objects.filter(key_hash=secret).exists()
    assert token.can_write and token.ledger == ledger
    invoice_in(ledger, invoice_no="A-1")
    response = client_with(secret).get(url(ledger, "invoices/A-1/"))
    assert response.status_code == 200


def test_create_api_token_for_an_unknown_ledger_fails_with_a_code(db):
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("create_api_token", "--ledger", "123456", stdout=out)
    assert exit_info.value.code == 1
    assert json.loads(out.getvalue())["error"]["code"] == "ledger_not_found"
    assert not ApiToken.objects.exists()


def test_a_token_is_read_only_by_default_and_a_bad_rate_limit_is_refused(ledger):
    out = StringIO()
    call_command("create_api_token", "--ledger", ledger.company_no, stdout=out)
    assert json.loads(out.getvalue())["write"] is False
    with pytest.raises(ValidationFailed) as error:
        api_token_create(client=ledger.client, ledger=ledger, rate_limit="lots")
    assert error.value.code == "invalid_rate_limit"


@pytest.mark.parametrize(
    "header, code",
    [
        (None, "not_authenticated"),
        ("Bearer plt_not-a-real-token", "invalid_token"),
        ("Token something", "invalid_token"),
        ("Bearer", "invalid_token"),
    ],
)
def test_missing_or_wrong_token_is_401_problem(ledger, header, code):
    client = client_with(None)
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(url(ledger, "invoices/"))
    assert_problem(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(ledger, other_ledger):
    secret = token_for(ledger)
    token = ApiToken.objects.get()
    assert client_with(secret).get(url(ledger, "invoices/")).status_code == 200
    with pytest.raises(NotFound):  # only the token's own client may revoke it
        api_token_revoke(token_id=token.id, client=other_ledger.client)
    assert api_token_revoke(token_id=token.id, client=ledger.client).revoked_at is not None
    assert_problem(client_with(secret).get(url(ledger, "invoices/")), 401, "invalid_token")


def test_a_read_only_token_cannot_write_and_nothing_is_written(ledger, read_api):
    invoice = invoice_in(ledger, invoice_no="A-1")
    response = read_api.post(url(ledger, "invoices/A-1/credit/"), {"amount": "10.00"}, format="json")
    assert_problem(response, 403, "token_read_only")
    assert Invoice.objects.get(pk=invoice.pk).events.count() == 1


def test_another_clients_token_gets_404_and_never_the_data(ledger, other_ledger, other_api):
    invoice_in(ledger, invoice_no="SECRET-1", amount="4321.00")
    for path in ["invoices/", "invoices/SECRET-1/", "payments/", "files/", "customers/1000/"]:
        response = other_api.get(url(ledger, path))
        body = assert_problem(response, 404, "ledger_not_found")
        assert "SECRET" not in response.content.decode() and "4321" not in json.dumps(body)
    response = other_api.post(url(ledger, "invoices/SECRET-1/credit/"), {"amount": "1.00"}, format="json")
    assert_problem(response, 404, "ledger_not_found")
    assert Invoice.objects.get(invoice_no="SECRET-1").events.count() == 1


def test_a_ledger_token_does_not_reach_another_ledger_of_the_same_client(ledger):
    sibling = LedgerFactory(company_no="7778", ledger_no="54322", client_name=ledger.client.name)
    assert sibling.client_id == ledger.client_id
    only_first = client_with(token_for(ledger))
    assert_problem(only_first.get(url(sibling, "invoices/")), 404, "ledger_not_found")
    client_wide = client_with(token_for(ledger, client_wide=True))
    assert client_wide.get(url(sibling, "invoices/")).status_code == 200
    assert client_wide.get(url(ledger, "invoices/")).status_code == 200


def test_rate_limit_per_token_is_429_with_retry_after(ledger):
    limited = client_with(token_for(ledger, rate_limit="3/min"))
    other = client_with(token_for(ledger))
    for _ in range(3):
        assert limited.get(url(ledger, "invoices/")).status_code == 200
    response = limited.get(url(ledger, "invoices/"))
    body = assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60 and body["retry_after"] == int(response["Retry-After"])
    assert other.get(url(ledger, "invoices/")).status_code == 200  # the limit is per token


def test_the_rate_limit_is_counted_in_the_database_for_every_process(ledger):
    from django.db import connection

    limited = client_with(token_for(ledger, rate_limit="2/min"))
    limited.get(url(ledger, "invoices/"))
    limited.get(url(ledger, "invoices/"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT requests FROM api_ratecounter")
        assert cursor.fetchall() == [(2,)]
        # What another process counted is in the same row: a third request from anywhere is refused.
        cursor.execute("UPDATE api_ratecounter SET requests = 1")
    assert limited.get(url(ledger, "invoices/")).status_code == 200
    assert limited.get(url(ledger, "invoices/")).status_code == 429


def test_a_new_window_starts_a_new_count_and_forgets_the_old(ledger):
    from django.db import connection

    limited = client_with(token_for(ledger, rate_limit="1/min"))
    with time_machine.travel("2026-03-01 10:00:30+00:00", tick=False):
        assert limited.get(url(ledger, "invoices/")).status_code == 200
        response = limited.get(url(ledger, "invoices/"))
        assert response.status_code == 429 and response["Retry-After"] == "30"
    with time_machine.travel("2026-03-01 10:01:00+00:00", tick=False):
        assert limited.get(url(ledger, "invoices/")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_ratecounter")
        assert cursor.fetchone()[0] == 1


def test_unknown_ledger_and_unknown_route_are_problem_json(ledger, api):
    assert_problem(api.get(url(ledger, "invoices/NOPE/")), 404, "invoice_not_found")
    assert_problem(api.get("/api/v1/ledgers/0000/invoices/"), 404, "ledger_not_found")
    assert_problem(api.get(url(ledger, "nothing-here/")), 404, "unknown_endpoint")
    body = assert_problem(api.get(url(ledger, "invoices")), 404, "unknown_endpoint")
    assert "end with a slash" in body["detail"]
    response = api.delete(url(ledger, "invoices/"))
    assert_problem(response, 405, "method_not_allowed")
    assert response["Content-Type"] == PROBLEM


def test_malformed_json_is_400_problem(ledger, api):
    response = api.post(url(ledger, "customers/"), "{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_request")


def test_schema_and_docs_are_served(db, client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/ledgers/{company_no}/invoices/" in paths
    assert "/api/v1/ledgers/{company_no}/cusin-files/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    # The docs page works offline: Swagger UI comes from our static files, not a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    assert b"cdn." not in docs.content
