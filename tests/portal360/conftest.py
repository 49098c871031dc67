import re
from datetime import date
from decimal import Decimal

import pytest

from ledger.models import UserRole
from tests.factories import CustomerFactory, InvoiceFactory, LedgerFactory, UserFactory
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Outboxes and the document archive under this test's own folder (not the shared var/)."""
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.LEDGER_DATA_DIR / "documents")},
        },
    }
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def ledger(db):
    return LedgerFactory(company_no="7001", ledger_no="70011", country="NO", client_name="Fjord Kraft AS",
                         client_funds_account="15030000002")  # fmt: skip


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


# --- The browser tests' world ---

PASSWORD = "browser test 2026!"


@pytest.fixture
def world(settings, tmp_path):
    """A client with a Norwegian ledger, an operator whose codes go to files, a customer and invoices."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    ledger = LedgerFactory(company_no="7101", ledger_no="71011", country="NO", client_name="Fjord Kraft AS",
                           client_funds_account="15030000002", name="Fjord Kraft reskontro")  # fmt: skip
    user = UserFactory(username="olivia", client=ledger.client, email="olivia@fjordkraft.no",
                       first_name="Olivia", last_name="Operator")  # fmt: skip
    user.set_password(PASSWORD)
    user.save()
    customer = CustomerFactory(ledger=ledger, customer_no="5001", name="Kari Nordmann", email="kari@example.no",
                               national_id="01019012345")  # fmt: skip
    invoice = InvoiceFactory(customer=customer, invoice_no="F-1001", amount=Decimal("1290.50"),
                             invoice_date=date.today())  # fmt: skip
    InvoiceFactory(
        customer=customer, invoice_no="F-1002", amount=Decimal("450.00"), invoice_date=date.today()
    )
    return {
        "ledger": ledger,
        "user": user,
        "customer": customer,
        "invoice": invoice,
        "mail": tmp_path / "mail",
    }


def code_from_outbox(folder) -> str:
    newest = max(folder.glob("*.log"), key=lambda p: p.stat().st_mtime)
    return re.findall(r"(\d{6}) is your sign-in code", newest.read_text())[-1]


def browser_sign_in(page, world):
    page.goto("/360/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/360/login/code/"))
    page.fill("#id_code", code_from_outbox(world["mail"]))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/360/$"))
