"""factory_boy factories. Ledgers and invoices are made through the services, as in production."""

from datetime import date
from decimal import Decimal

import factory

from distribution.models import Document
from ledger.models import Client, Customer, Ledger, LegalEntity, User
from ledger.national_ids import birth_date
from ledger.services.ledgers import ledger_create
from ledger.services.registration import invoice_register


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Client {n}")


class LedgerFactory(factory.Factory):
    """Onboards a ledger with `ledger_create` so it gets its chart of accounts."""

    class Meta:
        model = Ledger

    company_no = factory.Sequence(lambda n: str(9000 + n))
    ledger_no = factory.Sequence(lambda n: str(12000 + n))
    country = "NO"
    name = factory.LazyAttribute(lambda o: f"Ledger {o.company_no}")
    client_name = factory.Sequence(lambda n: f"Client for ledger {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        ledger, _ = ledger_create(**kwargs)
        return ledger

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("ledgers are created through ledger_create")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    ledger = factory.SubFactory(LedgerFactory)
    customer_no = factory.Sequence(lambda n: str(1000 + n))
    name = factory.Faker("name", locale="no_NO")
    legal_entity = LegalEntity.PRIVATE
    address_line1 = "Storgata 1"
    postal_code = "0155"
    city = "Oslo"
    country = factory.LazyAttribute(lambda o: o.ledger.country)
    # Derived from the national id as customers_upsert derives it (verify_ledger checks it).
    birth_date = factory.LazyAttribute(
        lambda o: (
            birth_date(o.national_id, country=getattr(o, "national_id_country", "") or o.ledger.country)
            if o.legal_entity == LegalEntity.PRIVATE and getattr(o, "national_id", "")
            else None
        )
    )


class InvoiceFactory(factory.Factory):
    """Registers an invoice with `invoice_register`: postings, reference and event included."""

    class Meta:
        model = dict

    customer = factory.SubFactory(CustomerFactory)
    ledger = factory.LazyAttribute(lambda o: o.customer.ledger)
    invoice_no = factory.Sequence(lambda n: f"INV-{100000 + n}")
    invoice_date = date(2026, 1, 5)
    amount = Decimal("1000.00")
    actor = "test"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return invoice_register(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    client = factory.SubFactory(ClientFactory)
    is_active = True


class DocumentFactory(factory.django.DjangoModelFactory):
    """A document that has been distributed (sent by e-mail unless told): archived with a checksum,
    as the database requires of every document that left the queue. Paper goes to the legal address."""

    class Meta:
        model = Document

    customer = factory.SubFactory(CustomerFactory)
    ledger = factory.LazyAttribute(lambda o: o.customer.ledger)
    kind = "reminder"
    booking_date = date(2026, 1, 5)
    source_key = factory.Sequence(lambda n: f"document-{n}")
    status = "sent"
    channel = "email"
    route = factory.LazyAttribute(lambda o: "legal_address" if o.channel == "paper" else "")
    archive_name = factory.LazyAttribute(lambda o: f"archive/{o.source_key}.pdf")
    distributed_on = factory.LazyAttribute(
        lambda o: o.booking_date if o.status in ("sent", "archived", "awaiting_print", "returned") else None
    )
    checksum = "0" * 64
    retention_until = date(2036, 12, 31)
