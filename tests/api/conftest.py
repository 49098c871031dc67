"""Fixtures of the API tests: a ledger with read and write tokens, and another client's ledger."""

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create
from tests.factories import InvoiceFactory, LedgerFactory
from tests.ledger.test_payments_import import ACCOUNT

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Outboxes and the document archive under a fresh LEDGER_DATA_DIR."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.LEDGER_DATA_DIR / "documents")},
        },
    }
    return settings.LEDGER_DATA_DIR


def client_with(secret: str | None) -> APIClient:
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def token_for(ledger, *, write: bool = False, client_wide: bool = False, rate_limit: str = "") -> str:
    _, secret = api_token_create(
        client=ledger.client, ledger=None if client_wide else ledger, can_write=write, rate_limit=rate_limit
    )
    return secret


@pytest.fixture
def ledger(db):
    return LedgerFactory(company_no="7777", ledger_no="54321", country="NO", client_funds_account=ACCOUNT)


@pytest.fixture
def other_ledger(db):
    """Another client's ledger, with an invoice whose number also exists in `ledger` in some tests."""
    return LedgerFactory(company_no="8888", ledger_no="65432", country="NO", client_name="Another client")


@pytest.fixture
def api(ledger):
    """A read/write client for `ledger`."""
    return client_with(token_for(ledger, write=True))


@pytest.fixture
def read_api(ledger):
    return client_with(token_for(ledger))


@pytest.fixture
def other_api(other_ledger):
    """A read/write client of another client: it must never reach `ledger`."""
    return client_with(token_for(other_ledger, write=True))


def url(ledger, rest: str = "") -> str:
    return f"/api/v1/ledgers/{ledger.company_no}/{rest}"


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def invoice_in(ledger, **kwargs):
    from tests.factories import CustomerFactory

    customer = kwargs.pop("customer", None) or CustomerFactory(ledger=ledger)
    return InvoiceFactory(customer=customer, **kwargs)
