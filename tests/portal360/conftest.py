import pytest

from ledger.models import UserRole
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def ledger(db):
    return LedgerFactory(company_no="7001", ledger_no="70011", country="NO", client_name="Fjord Kraft AS",
                         client_funds_account="15030000001")  # fmt: skip


@pytest.fixture
def other_ledger(db):
    """A ledger of another client: nothing of it may show to the first client's users."""
    return LedgerFactory(company_no="7002", ledger_no="70021", country="SE", client_name="Other Client AB")


@pytest.fixture
def customer(ledger):
    return CustomerFactory(ledger=ledger, customer_no="5001", name="Kari Nordmann", email="kari@example.no",
                           phone="+4791234567", national_id="01019012345")  # fmt: skip


@pytest.fixture
def invoice(customer):
    return InvoiceFactory(customer=customer, invoice_no="F-1001")


@pytest.fixture
def foreign_invoice(other_ledger):
    customer = CustomerFactory(ledger=other_ledger, customer_no="5001", name="Anna Svensson")
    return InvoiceFactory(customer=customer, invoice_no="F-1001")


def make_user(ledger, role=UserRole.OPERATOR, **fields):
    fields.setdefault("email", f"{role}@example.no")
    return UserFactory(client=ledger.client, role=role, **fields)


@pytest.fixture
def operator(ledger):
    return make_user(ledger, username="olivia", first_name="Olivia", last_name="Operator")


@pytest.fixture
def reader(ledger):
    return make_user(ledger, UserRole.READ_ONLY, username="reader")


@pytest.fixture
def signed_in(client, operator):
    return sign_in(client, operator)
