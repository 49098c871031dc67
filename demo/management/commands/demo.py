"""Demo data: one client with a Norwegian and a Swedish ledger, operators, customers and invoices.

Idempotent: running it again reuses what is there and books nothing twice.

Why one module past 500 lines: it is the demo's script, read top to bottom (who, which ledgers, which
invoices, what happened on which business day); it writes only through the apps' services.
"""

import json
import os
import zoneinfo
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from accounting.models import PriceItem, PriceItemKind, PriceList, SettlementAgreement, SettlementFrequency
from businessday.daily import business_day_run
from claims.models import BusinessDayRun, Claim, ClaimStatus
from cusin.generate import CreditSpec, CustomerSpec, InvoiceSpec, write_cusin
from cusin.inbox import inbox_scan
from cusin.models import CusinFile
from distribution.demo import demo_documents
from invoiceportal.demo import demo_portal_links
from ledger import references
from ledger.management.base import JsonCommand, parse_date
from ledger.models import Cause, Invoice, Ledger, LegalEntity, SecondFactorChannel, User, UserRole
from ledger.outbox import company_dir
from ledger.payments.bank_import import payments_import
from ledger.payments.bankfiles.write import PaymentSpec, write_ocr_giro
from ledger.services.customers import customer_upsert
from ledger.services.invoice_changes import invoice_credit, invoice_write_off
from ledger.services.ledgers import ledger_create
from ledger.services.registration import InvoiceInput, invoices_register
from ledger.services.respite_dispute import invoice_dispute_open, invoice_respite_set

CLIENT = "Nordic Demo Services AS"
DEMO_PASSWORD = os.environ.get("LEDGER_DEMO_PASSWORD", "demo-ledger-2026")

LEDGERS = [
    {
        "company_no": "9999",
        "ledger_no": "12345",
        "country": "NO",
        "name": "Demo Norge",
        "account": "15030000002",
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
                # The demo client is a Norwegian company, registered for VAT (its EHF invoices say so).
                client_org_no="923609016" if spec["country"] == "NO" else "",
                client_vat_registered=True,
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
            created += self._old_claims(ledger, customers, today)
            summary.append(
                {
                    "company_no": ledger.company_no,
                    "name": ledger.name,
                    "invoices_created": created,
                    "invoices": Invoice.objects.filter(ledger=ledger).count(),
                }
            )
        operator = self._users(ledger.client)
        self._settlement_terms(Ledger.objects.get(company_no=LEDGERS[0]["company_no"]), today)
        days_run = self._business_days(today - timedelta(days=3))
        self._efaktura_register()
        files = self._cusin_files(LEDGERS[0]["company_no"], today)
        bank = self._bank_file(LEDGERS[0], today)
        days_run += self._business_days(today)
        # The letters of those days and one document of every other kind, rendered, archived and sent.
        documents = {
            ledger.company_no: demo_documents(ledger=ledger, as_of=today)
            for ledger in Ledger.objects.filter(company_no__in=[spec["company_no"] for spec in LEDGERS])
        }
        return {
            "ok": True,
            "url": "http://127.0.0.1:8000/360/",
            "login": {"username": operator.username, "password": DEMO_PASSWORD},
            "staff_login": {"username": "admin", "password": DEMO_PASSWORD},
            "sign_in_codes": str(Path(settings.EMAIL_FILE_PATH))
            if hasattr(settings, "EMAIL_FILE_PATH")
            else "e-mail",
            "admin_url": "http://127.0.0.1:8000/admin/ (our staff only)",
            "ledgers": summary,
            "cusin_files": files,
            "bank_file": bank,
            "business_days_run": days_run,
            "documents": documents,
            "invoice_portal": demo_portal_links(company_no=LEDGERS[0]["company_no"]),
            "claims_by_level": dict(
                Claim.objects.values_list("level")
                .annotate(n=Count("id"))
                .order_by("level")
                .values_list("level", "n")
            ),
        }, True

    def _users(self, client) -> User:
        """Our staff member `admin` and the client's operator `operator`; both sign in to 360 with a
        code by e-mail (written to $LEDGER_DATA_DIR/mail/ in the demo)."""
        with transaction.atomic():
            admin, created = User.objects.get_or_create(
                username="admin",
                defaults={"is_staff": True, "is_superuser": True, "email": "admin@ledger.example"},
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save()
            operator, created = User.objects.get_or_create(
                username="operator",
                defaults={
                    "client": client,
                    "role": UserRole.OPERATOR,
                    "second_factor_channel": SecondFactorChannel.EMAIL,
                    "email": "operator@example.no",
                    "first_name": "Olivia",
                    "last_name": "Operator",
                },
            )
            if created:
                operator.set_password(DEMO_PASSWORD)
                operator.save()
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

    def _old_claims(self, ledger, customers, today: date) -> int:
        """Older unpaid invoices: the business days below take them through every level of the process."""
        prefix = f"{ledger.country}-OLD"
        if Invoice.objects.filter(ledger=ledger, invoice_no__startswith=prefix).exists():
            return 0
        ages = (85, 105, 125, 160, 230)
        items = [
            InvoiceInput(
                customer=customers[n % len(customers)],
                invoice_no=f"{prefix}-{n + 1}",
                invoice_date=today - timedelta(days=age),
                amount=AMOUNTS[(n + 2) % len(AMOUNTS)],
                reference_text="Annual licence",
            )
            for n, age in enumerate(ages)
        ]
        for item in items:
            with _on_the_day(item.invoice_date, hour=9):
                invoices_register(ledger=ledger, invoices=[item], actor="demo", booking_date=item.invoice_date)
        return len(items)

    def _settlement_terms(self, ledger, today: date) -> None:
        """The Norwegian ledger settles weekly to the client, our fees deducted, with an OCR report."""
        SettlementAgreement.objects.get_or_create(
            ledger=ledger,
            defaults={
                "frequency": SettlementFrequency.WEEKLY,
                "bank_account": "98765432103",
                "ocr_report": True,
            },
        )
        prices, created = PriceList.objects.get_or_create(
            client=ledger.client,
            valid_from=today - timedelta(days=365),
            defaults={"currency": ledger.currency},
        )
        if created:
            PriceItem.objects.bulk_create(
                [
                    PriceItem(price_list=prices, kind=PriceItemKind.INVOICE_REGISTERED, unit_price=Decimal("2.50")),
                    PriceItem(price_list=prices, kind=PriceItemKind.PAYMENT, unit_price=Decimal("1.50")),
                    PriceItem(price_list=prices, kind=PriceItemKind.INVOICE_EVENT, event_kind="collection_notice_sent",
                              unit_price=Decimal("9.00")),
                ]
            )  # fmt: skip

    def _efaktura_register(self) -> None:
        """The file-backed eFaktura 2.0 register (distribution/efaktura.py): Per Olsen of the CUSIN file
        below said yes to all in his bank, found by mobile and e-mail; his invoices go to eFaktura."""
        path = Path(settings.EFAKTURA_REGISTER_FILE)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            receivers = [{"receiver_id": "EF-DEMO-3001", "phone": "+4791234567", "email": "per@example.no",
                          "accepts_all": True}]  # fmt: skip
            path.write_text(json.dumps(receivers, indent=2), encoding="utf-8")

    def _business_days(self, until: date) -> int:
        """Run the business days up to `until` that have not run yet: every day of the last four weeks,
        and before that every day a claim step fell due (the days between would find nothing to do)."""
        last = BusinessDayRun.objects.aggregate(last=Max("business_date"))["last"]
        first_due = Invoice.objects.filter(invoice_no__contains="-").aggregate(first=Min("due_date"))["first"]
        day = last + timedelta(days=1) if last else first_due
        daily_from = until - timedelta(days=28)
        runs = 0
        while day and day <= until:
            # Every day of the last four weeks books its settlement and writes its accounting files; the
            # last day also renders and sends its letters.
            # Each day also sends its letters, so a September reminder went out in September's print batch.
            parts = ["direct_debit", "claims", "distribution"]
            if day >= daily_from:
                parts += ["settlement", "accounting"]
            with _on_the_day(day, hour=5):
                business_day_run(as_of=day, parts=parts)
            runs += 1
            next_step = Claim.objects.filter(status=ClaimStatus.ACTIVE, next_on__gt=day).aggregate(
                next_on=Min("next_on")
            )["next_on"]
            following = day + timedelta(days=1)
            day = following if following >= daily_from or next_step is None else min(next_step, daily_from)
        return runs

    def _cusin_files(self, company_no: str, today: date) -> list[dict]:
        """Drop four CUSIN files in the Norwegian ledger's sFTP inbox (the third one with errors) and
        let the inbox watcher import them, as a client's upload would be."""
        day = today - timedelta(days=10)
        stamp = day.strftime("%Y%m%d") + "080000"

        def invoice(no, amount, rows=2, **kw):
            net = Decimal(amount)
            lines = [
                (
                    f"{100 + n}",
                    f"Service item {n}",
                    "1",
                    f"{net / rows:.2f}".replace(".", ","),
                    f"{net / rows:.2f}".replace(".", ","),
                )
                for n in range(1, rows + 1)
            ]
            return InvoiceSpec(
                invoice_no=no,
                invoice_date=day,
                amount_excl_vat=net,
                vat_amount=net / 4,
                currency="NOK",
                order_rows=lines,
                reference_text="Service agreement",
                **kw,
            )

        def customer(no, name, *items, **kw):
            return CustomerSpec(
                customer_no=no,
                name=name,
                street=kw.pop("street", "Dronningens gate 5"),
                zip_code="7011",
                city="Trondheim",
                items=list(items),
                **kw,
            )

        files = {
            f"CUSIN_{company_no}_{stamp}_1.xml": [
                customer(
                    "3001",
                    "Per Olsen",
                    invoice("CU-2001", "800.00"),
                    email="per@example.no",
                    phone="+47 912 34 567",
                ),
                customer(
                    "3002",
                    "Havbruk AS",
                    invoice("CU-2002", "24000.00", rows=4),
                    legal_entity="Business",
                    reg_no="923609016",
                    distribution_type="Email",
                    email="faktura@havbruk.no",
                ),
                customer(
                    "3003",
                    "Siri Dahl",
                    invoice("CU-2003", "350.00"),
                    invoice("CU-2004", "1200.00"),
                    payment_rules={"UseBKAGNO": True},
                ),
            ],
            f"CUSIN_{company_no}_{stamp}_2.xml": [
                customer(
                    "3001",
                    "Per Olsen",
                    invoice("CU-2005", "640.00"),
                    street="Munkegata 20",
                    email="per@example.no",
                ),
                customer(
                    "3003",
                    "Siri Dahl",
                    CreditSpec(
                        credited_invoice_no="CU-2004",
                        amount_excl_vat=Decimal("200.00"),
                        vat_amount=Decimal("50.00"),
                        currency="NOK",
                        credit_note_no="KN-17",
                        cause="Complaint",
                        reason="Late delivery",
                    ),
                    distribution_rules={"UseEInvoiceB2CNO": True},
                ),
            ],
            f"CUSIN_{company_no}_{stamp}_3.xml": [
                customer(
                    "3004",
                    "Feil Regnr",
                    invoice("CU-2006", "500.00"),
                    reg_no="12345678901",
                    reg_no_country="NO",
                ),
                customer(
                    "3005",
                    "Lise Lund",
                    invoice("CU-2001", "90.00"),
                    invoice("CU-2007", "450.00"),
                    invoice("CU-2008", "300.00", payment_ref="123456700013"),
                ),
            ],
        }
        # CUSIN 2.1: a minor whose guardian gets the letters, a minor with none (the claim is held for 360's
        # worklist of minors) and an invoice another customer pays (seeds 001 section 2.2).
        older = today - timedelta(days=40)
        files[f"CUSIN_{company_no}_{stamp}_4.xml"] = [
            customer("3006", "Kari Hansen", reg_no="15108695088", email="kari.hansen@example.no"),
            customer("3007", "Emma Hansen", InvoiceSpec(invoice_no="CU-2009", invoice_date=older, currency="NOK",
                                                        amount_excl_vat=Decimal("280.00"), vat_amount=Decimal("70.00")),
                     reg_no="01031550056", guardian_customer_no="3006"),
            customer("3008", "Jonas Berg", InvoiceSpec(invoice_no="CU-2010", invoice_date=older, currency="NOK",
                                                       amount_excl_vat=Decimal("400.00"), vat_amount=Decimal("100.00")),
                     reg_no="20071450008"),
            customer("3001", "Per Olsen", invoice("CU-2011", "1500.00", payer_customer_no="3002"),
                     street="Munkegata 20", email="per@example.no"),
        ]  # fmt: skip
        inbox = company_dir(company_no, "inbox")
        for name, customers in files.items():
            if not CusinFile.objects.filter(file_name=name).exists():
                write_cusin(
                    inbox / name,
                    company_no=company_no,
                    company_name="Demo Norge",
                    customers=customers,
                    created=f"{day.isoformat()}T08:00:00",
                    version="2.1" if name.endswith("_4.xml") else "2.0",
                )
        inbox_scan(min_age_seconds=0)
        return [
            {"file": f.file_name, "status": f.status, "errors": len(f.receipt.get("errors", []))}
            for f in CusinFile.objects.filter(file_name__in=list(files)).order_by("file_name")
        ]

    def _bank_file(self, spec: dict, today: date) -> dict:
        """An OCR Giro file from the bank that pays some invoices fully, one partly, one twice, one with
        too much, and one payment whose KID matches nothing."""
        ledger_invoices = {
            i.invoice_no: i for i in Invoice.objects.filter(ledger__company_no=spec["company_no"])
        }

        # Invoices not yet due, so nothing but their capital is open: the same file again is then a duplicate.
        def open_amount(invoice_no):
            return ledger_invoices[invoice_no].amount

        def pay(invoice_no, amount, archive_ref):
            return PaymentSpec(
                reference=ledger_invoices[invoice_no].payment_ref,
                amount=amount,
                archive_ref=archive_ref,
                payer_account="12345678903",
            )

        payments = [
            pay("NO-10020", open_amount("NO-10020"), "100000001"),  # exact
            pay("CU-2001", open_amount("CU-2001"), "100000002"),  # exact, a CUSIN invoice
            pay("NO-10021", (open_amount("NO-10021") / 2).quantize(Decimal("0.01")), "100000003"),  # partial
            pay("NO-10022", open_amount("NO-10022"), "100000004"),  # paid twice: the second is surplus
            pay("NO-10022", open_amount("NO-10022"), "100000005"),
            pay("NO-10023", open_amount("NO-10023") + Decimal("50.00"), "100000006"),  # too much
            PaymentSpec(
                reference=references.kid_generate(customer_no="9999999", serial=1),
                amount=Decimal("499.00"),
                archive_ref="100000007",
                payer_account="12345678903",
            ),  # matches nothing
        ]
        data = write_ocr_giro(
            payments, receiving_account=spec["account"], nets_date=today - timedelta(days=2)
        )
        name = f"OCR_{spec['company_no']}_{(today - timedelta(days=2)).strftime('%Y%m%d')}.txt"
        summary = payments_import(data=data, file_name=name, actor="demo")
        return {
            k: summary.get(k)
            for k in (
                "file",
                "status",
                "payments",
                "matched",
                "partially_paid",
                "overpaid",
                "double_paid",
                "unidentified",
                "duplicates_skipped",
            )
        }


@contextmanager
def _on_the_day(day: date, *, hour: int):
    """Run the block as if it were `day` at `hour` (Oslo): what it records carries that day's timestamp,
    so months of demo history read as months, not as the minute the demo ran. The clock keeps ticking
    inside. (time-machine comes with the development install that `make demo` makes.)"""
    import time_machine

    moment = datetime.combine(day, time(hour), tzinfo=zoneinfo.ZoneInfo("Europe/Oslo"))
    if moment > timezone.now():  # never into the future: today's work happens now
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield
