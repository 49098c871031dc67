"""Demo data: one client with a Norwegian and a Swedish ledger, operators, customers and invoices.

Idempotent: running it again reuses what is there and books nothing twice.
"""

import os
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from ledger.management.base import JsonCommand, parse_date
from ledger.models import Cause, Invoice, LegalEntity, User
from ledger.services import (
    InvoiceInput,
    customer_upsert,
    invoice_credit,
    invoice_dispute_open,
    invoice_respite_set,
    invoice_write_off,
    invoices_register,
    ledger_create,
)

CLIENT = "Nordic Demo Services AS"
DEMO_PASSWORD = os.environ.get("LEDGER_DEMO_PASSWORD", "demo-ledger-2026")

LEDGERS = [
    {
        "company_no": "9999",
        "ledger_no": "12345",
        "country": "NO",
        "name": "Demo Norge",
        "account": "15030000001",
    },
    {
        "company_no": "8888",
        "ledger_no": "54321",
        "country": "SE",
        "name": "Demo Sverige",
        "account": "9912346",
    },
]

CUSTOMERS = {
    "NO": [
        ("1001", "Kari Nordmann", LegalEntity.PRIVATE, "Storgata 1", "0155", "Oslo", "kari@example.no"),
        ("1002", "Ola Hansen", LegalEntity.PRIVATE, "Bryggen 4", "5003", "Bergen", ""),
        (
            "1003",
            "Fjord Rør AS",
            LegalEntity.BUSINESS,
            "Industriveien 12",
            "7080",
            "Heimdal",
            "faktura@fjordror.no",
        ),
        ("1004", "Ingrid Berg", LegalEntity.PRIVATE, "Kirkegata 7", "9008", "Tromsø", "ingrid@example.no"),
        ("1005", "Nord Bygg AS", LegalEntity.BUSINESS, "Havnegata 2", "8006", "Bodø", ""),
    ],
    "SE": [
        (
            "2001",
            "Anna Svensson",
            LegalEntity.PRIVATE,
            "Drottninggatan 10",
            "11151",
            "Stockholm",
            "anna@example.se",
        ),
        ("2002", "Erik Johansson", LegalEntity.PRIVATE, "Avenyn 3", "41136", "Göteborg", ""),
        (
            "2003",
            "Kalles Plåt AB",
            LegalEntity.BUSINESS,
            "Storgatan 5",
            "21122",
            "Malmö",
            "ekonomi@kallesplat.se",
        ),
        (
            "2004",
            "Lena Lind",
            LegalEntity.PRIVATE,
            "Sysslomansgatan 1",
            "75311",
            "Uppsala",
            "lena@example.se",
        ),
    ],
}

AMOUNTS = [
    Decimal("450.00"),
    Decimal("1290.50"),
    Decimal("89.90"),
    Decimal("12500.00"),
    Decimal("3200.00"),
    Decimal("675.25"),
    Decimal("199.00"),
    Decimal("5400.00"),
]


class Command(JsonCommand):
    help = "Load demo data (idempotent) and print where to log in."

    def add_arguments(self, parser):
        parser.add_argument("--date", default=None, help="the demo's 'today' (default: today)")

    def run(self, **o):
        today = parse_date(o["date"]) if o["date"] else date.today()
        summary = []
        for spec in LEDGERS:
            ledger, _ = ledger_create(
                company_no=spec["company_no"],
                ledger_no=spec["ledger_no"],
                country=spec["country"],
                name=spec["name"],
                client_name=CLIENT,
                client_funds_account=spec["account"],
            )
            customers = [
                customer_upsert(
                    ledger=ledger,
                    customer_no=no,
                    name=name,
                    legal_entity=entity,
                    address_line1=street,
                    postal_code=postal,
                    city=city,
                    email=email,
                )
                for no, name, entity, street, postal, city, email in CUSTOMERS[spec["country"]]
            ]
            created = self._invoices(ledger, customers, today)
            summary.append(
                {
                    "company_no": ledger.company_no,
                    "name": ledger.name,
                    "invoices_created": created,
                    "invoices": Invoice.objects.filter(ledger=ledger).count(),
                }
            )
        operator = self._users(ledger.client)
        return {
            "ok": True,
            "url": "http://127.0.0.1:8000/admin/",
            "login": {"username": operator.username, "password": DEMO_PASSWORD},
            "staff_login": {"username": "admin", "password": DEMO_PASSWORD},
            "ledgers": summary,
        }, True

    def _users(self, client) -> User:
        with transaction.atomic():
            admin, created = User.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True}
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save()
            operator, created = User.objects.get_or_create(
                username="operator",
                defaults={
                    "client": client,
                    "is_staff": True,
                    "email": "operator@example.no",
                    "first_name": "Olivia",
                    "last_name": "Operator",
                },
            )
            if created:
                operator.set_password(DEMO_PASSWORD)
                operator.save()
                from django.contrib.auth.models import Permission

                operator.user_permissions.set(
                    Permission.objects.filter(content_type__app_label="ledger", codename__startswith="view_")
                )
        return operator

    def _invoices(self, ledger, customers, today: date) -> int:
        prefix = ledger.country
        if Invoice.objects.filter(ledger=ledger, invoice_no__startswith=f"{prefix}-").exists():
            return 0
        items = []
        for n in range(24):
            invoice_date = today - timedelta(days=70 - 3 * n)
            items.append(
                InvoiceInput(
                    customer=customers[n % len(customers)],
                    invoice_no=f"{prefix}-{10001 + n}",
                    invoice_date=invoice_date,
                    amount=AMOUNTS[n % len(AMOUNTS)],
                    reference_text="Consulting services" if n % 2 else "Monthly subscription",
                )
            )
        invoices = []
        # Register in invoice-date order so that each booking falls on its own invoice date.
        for item in items:
            invoices += invoices_register(
                ledger=ledger, invoices=[item], actor="demo", booking_date=item.invoice_date
            )
        invoice_credit(
            invoice=invoices[0], actor="demo", reason="Returned goods", booking_date=invoices[0].due_date
        )
        invoice_credit(
            invoice=invoices[1],
            amount=Decimal("100.00"),
            actor="demo",
            reason="Price correction",
            booking_date=invoices[1].due_date,
        )
        invoice_write_off(
            invoice=invoices[2],
            cause=Cause.DECEASED,
            actor="demo",
            reason="Estate without means",
            booking_date=today - timedelta(days=5),
        )
        invoice_dispute_open(
            invoice=invoices[3],
            actor="demo",
            reason="Customer says the service was not delivered",
            booking_date=today - timedelta(days=3),
        )
        invoice_respite_set(
            invoice=invoices[4],
            until=today + timedelta(days=20),
            actor="demo",
            reason="Agreed by phone",
            booking_date=today - timedelta(days=2),
        )
        return len(invoices)
