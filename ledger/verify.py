"""`ledger_verify`: the ledger checked against its own invariants and derived data (the journal balances,
receivables against invoice balances, bank files against payments, credit balances, payouts, summaries):
what `manage.py verify_ledger` prints."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum

from ledger.selectors import CREDIT_KINDS, _fetch, bank_role_for, invoices_with_balances

from .models import (
    AccountRole,
    Customer,
    Invoice,
    InvoiceStatus,
    JournalTransaction,
    Ledger,
    LegalEntity,
    Payment,
    PaymentFile,
    PaymentFileStatus,
)
from .money import ZERO
from .national_ids import birth_date
from .summaries import ledger_open_versions_problems, ledger_summaries_problems

_MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)


def verify_check(name: str, discrepancies: list) -> dict:
    """One check's result as verify_ledger reports it (the first 50 discrepancies and their count)."""
    return {
        "check": name,
        "ok": not discrepancies,
        "discrepancies": discrepancies[:50],
        "count": len(discrepancies),
    }


def ledger_verify(*, ledger: Ledger) -> list[dict]:
    """The auditor's reconciliation of one ledger: each check with the discrepancies it found."""
    lid = ledger.id
    receivable_roles = [
        AccountRole.RECEIVABLE_CAPITAL,
        AccountRole.RECEIVABLE_FEE,
        AccountRole.RECEIVABLE_INTEREST,
    ]
    checks = []

    unbalanced = _fetch(
        """SELECT p.transaction_id, p.currency, sum(p.amount) FROM ledger_posting p
            WHERE p.ledger_id = %s GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0""",
        [lid],
    )
    empty = JournalTransaction.objects.filter(ledger=ledger, postings__isnull=True).values_list(
        "id", flat=True
    )
    checks.append(
        verify_check(
            "transactions_balance",
            [{"transaction": t, "currency": c, "sum": str(s)} for t, c, s in unbalanced]
            + [{"transaction": t, "problem": "no postings"} for t in empty],
        )
    )

    # Stored status against the postings: closed exactly when nothing is open, no component negative.
    mismatched = []
    for inv in (
        invoices_with_balances(Invoice.objects.filter(ledger=ledger))
        .filter(
            (Q(status=InvoiceStatus.CLOSED) & ~Q(open_amount=0))
            | (~Q(status=InvoiceStatus.CLOSED) & Q(open_amount=0))
            | Q(capital__lt=0)
            | Q(fees__lt=0)
            | Q(interest__lt=0)
        )
        .values("invoice_no", "status", "capital", "fees", "interest", "open_amount")
    ):
        mismatched.append({k: str(v) for k, v in inv.items()})
    checks.append(verify_check("invoice_status_matches_postings", mismatched))

    receivable_rows = _fetch(
        """SELECT a.role, a.number,
                  coalesce(sum(p.amount), 0) AS account_balance,
                  coalesce(sum(p.amount) FILTER (WHERE p.invoice_id IS NOT NULL AND p.component <> ''), 0)
                      AS open_items,
                  count(p.id) FILTER (WHERE p.invoice_id IS NULL OR p.component = '') AS stray
             FROM ledger_account a LEFT JOIN ledger_posting p ON p.account_id = a.id
            WHERE a.ledger_id = %s AND a.role = ANY(%s)
            GROUP BY a.role, a.number""",
        [lid, receivable_roles],
    )
    stray_components = _fetch(
        """SELECT p.id, a.role, p.component FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND p.component <> '' AND NOT (
                (p.component = 'capital' AND a.role = 'receivable_capital')
             OR (p.component = 'fee' AND a.role = 'receivable_fee')
             OR (p.component = 'interest' AND a.role = 'receivable_interest'))""",
        [lid],
    )
    checks.append(
        verify_check(
            "receivables_equal_open_items",
            [
                {
                    "account": number,
                    "role": role,
                    "account_balance": str(bal),
                    "open_items": str(items),
                    "postings_without_invoice": stray,
                }
                for role, number, bal, items, stray in receivable_rows
                if bal != items or stray
            ]
            + [
                {
                    "posting": pid,
                    "role": role,
                    "component": comp,
                    "problem": "component on a non-matching account",
                }
                for pid, role, comp in stray_components
            ],
        )
    )

    # Suspense holds exactly the unallocated part of unidentified payments.
    suspense_rows = _fetch(
        """SELECT pay.id, pay.bank_archive_ref, pay.status, coalesce(-sum(p.amount), 0) AS unallocated
             FROM ledger_payment pay
             LEFT JOIN ledger_posting p ON p.payment_id = pay.id
                  AND p.account_id IN (SELECT id FROM ledger_account WHERE ledger_id = %s AND role = 'suspense')
            WHERE pay.ledger_id = %s
            GROUP BY pay.id, pay.bank_archive_ref, pay.status""",
        [lid, lid],
    )
    suspense_problems = []
    for _payment_id, archive_ref, status, unallocated in suspense_rows:
        unidentified = status == Payment.Status.UNIDENTIFIED
        if unallocated < 0 or (unidentified and unallocated == 0) or (not unidentified and unallocated != 0):
            suspense_problems.append(
                {"payment": archive_ref, "status": status, "unallocated": str(unallocated)}
            )
    stray_suspense = _fetch(
        """SELECT p.id, p.amount FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id
            WHERE p.ledger_id = %s AND a.role = 'suspense' AND p.payment_id IS NULL""",
        [lid],
    )
    suspense_problems += [
        {"posting": pid, "amount": str(amount), "problem": "suspense posting without payment"}
        for pid, amount in stray_suspense
    ]
    checks.append(verify_check("suspense_equals_unallocated_payments", suspense_problems))
    checks.append(verify_check("bank_in_equals_bank_files", _bank_in_problems(ledger)))
    checks.append(verify_check("customer_credit_equals_surplus", _customer_credit_problems(ledger)))
    checks.append(verify_check("payouts_equal_journal", _payout_problems(ledger)))
    checks.append(verify_check("booked_debits_equal_payments", _booked_debit_problems(ledger)))
    checks.append(verify_check("birth_dates_equal_national_ids", _birth_date_problems(ledger)))
    checks.append(verify_check("dashboard_summaries_equal_journal", ledger_summaries_problems(ledger=ledger)))
    checks.append(verify_check("open_versions_equal_journal", ledger_open_versions_problems(ledger=ledger)))
    return checks


def _bank_in_problems(ledger: Ledger) -> list[dict]:
    """Money in on the client-funds accounts (the collection one included) per booking date equals what
    the bank files of that date brought (plus payments registered without a file), and each payment
    brought exactly its amount; a payment into the collection client-funds account is booked on its role,
    every other on the client-funds account's."""
    lid = ledger.id
    journal = dict(
        _fetch(
            """SELECT t.booking_date, sum(p.amount) FROM ledger_posting p
                 JOIN ledger_journaltransaction t ON t.id = p.transaction_id
                 JOIN ledger_account a ON a.id = p.account_id
                WHERE p.ledger_id = %s AND t.kind = 'payment'
                  AND a.role IN ('client_funds_bank', 'collection_funds_bank')
                GROUP BY t.booking_date""",
            [lid],
        )
    )
    files: dict[date, Decimal] = defaultdict(Decimal)
    for summary in PaymentFile.objects.filter(ledger=ledger, status=PaymentFileStatus.ACCEPTED).values_list(
        "summary", flat=True
    ):
        for day, amount in (summary or {}).get("booked_by_date", {}).items():
            files[date.fromisoformat(day)] += Decimal(amount)
    for day, amount in (
        Payment.objects.filter(ledger=ledger, file__isnull=True)
        .values_list("booking_date")
        .annotate(total=Sum("amount"))
        .values_list("booking_date", "total")
    ):
        files[day] += amount
    problems = [
        {
            "booking_date": day.isoformat(),
            "journal": str(journal.get(day, ZERO)),
            "bank_files": str(files.get(day, ZERO)),
        }
        for day in sorted(set(journal) | set(files))
        if journal.get(day, ZERO) != files.get(day, ZERO)
    ]
    problems += [
        {"payment": ref, "amount": str(amount), "booked_on_bank": str(booked)}
        for ref, amount, booked in _fetch(
            """SELECT pay.bank_archive_ref, pay.amount, coalesce(sum(b.amount), 0)
                 FROM ledger_payment pay
                 LEFT JOIN (ledger_posting b
                            JOIN ledger_journaltransaction t ON t.id = b.transaction_id AND t.kind = 'payment'
                            JOIN ledger_account a ON a.id = b.account_id
                                 AND a.role IN ('client_funds_bank', 'collection_funds_bank'))
                   ON b.payment_id = pay.id
                WHERE pay.ledger_id = %s
                GROUP BY pay.id, pay.bank_archive_ref, pay.amount
               HAVING coalesce(sum(b.amount), 0) <> pay.amount""",
            [lid],
        )
    ]
    if ledger.collection_funds_account:
        problems += [
            {"payment": ref, "receiving_account": account, "booked_on": role,
             "problem": "booked on the other client-funds account than the one it was paid into"}
            for ref, account, role in _fetch(
                """SELECT pay.bank_archive_ref, pay.receiving_account, a.role
                     FROM ledger_payment pay
                     JOIN ledger_journaltransaction t ON t.payment_id = pay.id AND t.kind = 'payment'
                     JOIN ledger_posting b ON b.transaction_id = t.id
                     JOIN ledger_account a ON a.id = b.account_id
                          AND a.role IN ('client_funds_bank', 'collection_funds_bank')
                    WHERE pay.ledger_id = %s""",
                [lid],
            )
            if role != bank_role_for(ledger, account)
        ]  # fmt: skip
    return problems


def _birth_date_problems(ledger: Ledger) -> list[dict]:
    """Each customer's birth date is the one its national id says (a private person's; none otherwise):
    the claims of minors go to their guardian by it (ledger/addressees.py)."""
    problems = []
    for customer_no, entity, number, country, born in (
        Customer.objects.filter(ledger=ledger)
        .filter(Q(birth_date__isnull=False) | (Q(legal_entity=LegalEntity.PRIVATE) & ~Q(national_id="")))
        .order_by("customer_no")
        .values_list("customer_no", "legal_entity", "national_id", "national_id_country", "birth_date")
        .iterator(chunk_size=5000)
    ):
        expected = (
            birth_date(number, country=country or ledger.country)
            if entity == LegalEntity.PRIVATE and number
            else None
        )
        if born != expected:
            problems.append({"customer": customer_no, "birth_date": str(born), "from_national_id": str(expected)})
    return problems


def _booked_debit_problems(ledger: Ledger) -> list[dict]:
    """Each direct debit booked from its result file is the payment of its own ledger, invoice, amount
    and archive reference (DD-<attempt>), and a reconciling line is not also a booked payment."""
    return [
        {"invoice": invoice_no, "attempt": attempt_no, "amount": str(amount), "payment": ref,
         "payment_amount": str(paid), "problem": problem}
        for invoice_no, attempt_no, amount, ref, paid, problem in _fetch(
            """SELECT i.invoice_no, a.attempt_no, a.amount, pay.bank_archive_ref, pay.amount,
                      CASE WHEN pay.ledger_id <> a.ledger_id OR pay.invoice_id IS DISTINCT FROM a.invoice_id
                                OR pay.bank_archive_ref <> 'DD-' || a.id THEN 'not this debit''s payment'
                           WHEN pay.amount <> a.amount THEN 'amounts differ'
                           ELSE 'reconciling line booked as a payment too' END
                 FROM ledger_directdebitattempt a
                 JOIN ledger_invoice i ON i.id = a.invoice_id
                 JOIN ledger_payment pay ON pay.id = a.payment_id
                WHERE a.ledger_id = %(ledger)s
                  AND (pay.ledger_id <> a.ledger_id OR pay.invoice_id IS DISTINCT FROM a.invoice_id
                       OR pay.bank_archive_ref <> 'DD-' || a.id OR pay.amount <> a.amount
                       OR EXISTS (SELECT 1 FROM ledger_payment dup
                                   WHERE dup.ledger_id = a.ledger_id AND dup.bank_archive_ref = a.reconciled_ref))
                ORDER BY i.invoice_no, a.attempt_no""",
            {"ledger": ledger.id},
        )
    ]  # fmt: skip


def _customer_credit_problems(ledger: Ledger) -> list[dict]:
    """The customer-credit account is exactly the customers' surplus: every posting names a customer,
    comes from a payment, allocation, payout or reversal, and no customer's surplus is negative."""
    lid = ledger.id
    rows = _fetch(
        """SELECT c.customer_no, sum(p.amount) FROM ledger_posting p
             JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
             JOIN ledger_customer c ON c.id = p.customer_id
            WHERE p.ledger_id = %s
            GROUP BY c.customer_no HAVING sum(p.amount) > 0""",
        [lid],
    )
    problems = [
        {"customer": no, "surplus": str(-balance), "problem": "negative credit balance"}
        for no, balance in rows
    ]
    problems += [
        {"posting": pid, "amount": str(amount), "kind": kind, "problem": problem}
        for pid, amount, kind, problem in _fetch(
            """SELECT p.id, p.amount, t.kind,
                      CASE WHEN p.customer_id IS NULL THEN 'credit posting without customer'
                           ELSE 'credit posting from a ' || t.kind || ' transaction' END
                 FROM ledger_posting p
                 JOIN ledger_account a ON a.id = p.account_id AND a.role = 'customer_credit'
                 JOIN ledger_journaltransaction t ON t.id = p.transaction_id
                WHERE p.ledger_id = %s AND (p.customer_id IS NULL OR t.kind <> ALL(%s))""",
            [lid, list(CREDIT_KINDS)],
        )
    ]
    return problems


def _payout_problems(ledger: Ledger) -> list[dict]:
    """Every PAYOUT transaction has its Payout (what pain.001 will send), for what left the bank account."""
    return [
        {"transaction": tid, "payout": payout_id, "payout_amount": str(amount), "bank_out": str(out)}
        for tid, payout_id, amount, out in _fetch(
            """SELECT t.id, po.id, po.amount,
                      coalesce(-sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank'), 0)
                 FROM ledger_journaltransaction t
                 LEFT JOIN ledger_payout po ON po.transaction_id = t.id
                 LEFT JOIN ledger_posting p ON p.transaction_id = t.id
                 LEFT JOIN ledger_account a ON a.id = p.account_id
                WHERE t.ledger_id = %s AND t.kind = 'payout'
                GROUP BY t.id, po.id, po.amount
               HAVING po.id IS NULL
                   OR po.amount <> coalesce(-sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank'), 0)
               UNION ALL
               SELECT t.id, po.id, po.amount, 0
                 FROM ledger_payout po JOIN ledger_journaltransaction t ON t.id = po.transaction_id
                WHERE po.ledger_id = %s AND (t.kind <> 'payout' OR t.ledger_id <> po.ledger_id)""",
            [ledger.id, ledger.id],
        )
    ]
