"""Bank files in: `payments_import` checks a file whole (the parsers in ledger.payments.bankfiles),
plans it (matching.py) and books it (booking.py) in one transaction; files (by digest) and payments (by
bank archive reference) are booked at most once."""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.db import IntegrityError, connection, transaction

from ledger.bulk import gc_paused
from ledger.errors import FileRejected, ValidationFailed
from ledger.models import (
    Ledger,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    User,
)
from ledger.money import ZERO, to_money
from ledger.payments import bankfiles
from ledger.payments.booking import (
    FIRST_ROUND,
    WRITE_CHUNK,
    _BackgroundWriter,
    _IdBlock,
    _round,
    _round_fields,
)
from ledger.payments.debit_reconciliation import DebitsAwaitingMoney
from ledger.payments.matching import _Planner
from ledger.selectors import ledger_for_account
from ledger.services.common import _actor_fields
from ledger.services.registration import BULK_SIZE

BANK_ACTOR = "bank"
MAX_FILE_BYTES = 256 * 1024 * 1024


class PaymentFileRejected(FileRejected):
    """A bank payment file is refused whole."""


def _empty_summary(name: str, fmt: str, ledger: Ledger | None) -> dict:
    return {
        "file": name,
        "format": fmt,
        "status": "",
        "ledger": ledger.company_no if ledger else None,
        "currency": ledger.currency if ledger else None,
        "payments": 0,
        "total_amount": str(ZERO),
        "matched": 0,
        "partially_paid": 0,
        "overpaid": 0,
        "double_paid": 0,
        "unidentified": 0,
        "misdirected": 0,
        "duplicates_skipped": 0,
        "debits_reconciled": 0,
        "not_booked": 0,
        "booked_by_date": {},
        "errors": [],
    }


_OUTCOME_KEYS = {
    Payment.Outcome.EXACT: "matched",
    Payment.Outcome.PARTIAL: "partially_paid",
    Payment.Outcome.OVERPAID: "overpaid",
    Payment.Outcome.DOUBLE: "double_paid",
    Payment.Outcome.UNIDENTIFIED: "unidentified",
    Payment.Outcome.MISDIRECTED: "unidentified",
}


def _payment_error(p: bankfiles.BankPayment, code: str, message: str) -> dict:
    return {"code": code, "message": message, "line": p.line, "archive_ref": p.archive_ref}


def payments_import(
    *,
    data: bytes,
    file_name: str,
    company_no: str | None = None,
    format: str | None = None,
    actor: User | str | None = BANK_ACTOR,
) -> dict:
    """Import one bank payment file; returns its summary (also kept on the PaymentFile row).

    status is "accepted" (booked; payments that cannot be booked are listed in errors), "duplicate"
    (the same content was booked before: nothing booked) or "rejected" (nothing booked; errors say why).
    The matched / partially_paid / overpaid / double_paid / unidentified counts add up to `payments`,
    the number booked; `misdirected` counts the unidentified payments bearing another ledger's reference.
    """
    with gc_paused():
        return _payments_import(
            data=data, file_name=file_name, company_no=company_no, format=format, actor=actor
        )


def _payments_import(*, data, file_name, company_no, format, actor) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    created_by_id, actor_label = _actor_fields(actor)
    ledger = None
    fmt = format or ""
    summary = _empty_summary(file_name, fmt, None)
    try:
        if len(data) > MAX_FILE_BYTES:
            raise PaymentFileRejected(
                f"the file has {len(data)} bytes; at most {MAX_FILE_BYTES} are accepted",
                code="file_too_large",
            )
        try:
            bank = bankfiles.open_bank_file(data, format=format, name=file_name)
        except bankfiles.BankFileError as exc:
            raise PaymentFileRejected(exc.message, code=exc.code, line=exc.line) from exc
        fmt = bank.format
        if bank.test:
            raise PaymentFileRejected("the file is marked as a test file; it is not booked", code="test_file")
        ledger = ledger_for_account(accounts=bank.receiving_accounts, company_no=company_no)
        summary = _empty_summary(file_name, fmt, ledger)
        try:
            with transaction.atomic():
                # One import per ledger at a time: archive references and invoice balances stay consistent.
                # FOR NO KEY UPDATE, not FOR UPDATE: every insert naming the ledger (a registration through
                # the API, the 360 pages' writes) checks its foreign key with FOR KEY SHARE, which FOR UPDATE
                # would make wait for the whole import (tests/ledger/test_ledger_locks.py).
                Ledger.objects.select_for_update(no_key=True).filter(pk=ledger.pk).first()
                earlier = PaymentFile.objects.filter(
                    ledger=ledger, digest=digest, status=PaymentFileStatus.ACCEPTED
                ).first()
                fields = dict(ledger=ledger, file_name=file_name[:255], format=fmt, digest=digest, size=len(data),
                              created_by_id=created_by_id, actor=actor_label)  # fmt: skip
                if earlier is not None:
                    summary["status"] = PaymentFileStatus.DUPLICATE
                    summary["duplicates_skipped"] = bank.count
                    summary["duplicate_of"] = {"payment_file": earlier.pk, "file": earlier.file_name}
                    row = PaymentFile.objects.create(
                        status=PaymentFileStatus.DUPLICATE, summary=summary, **fields
                    )
                    return {**summary, "payment_file": row.pk}

                file_row = PaymentFile.objects.create(status=PaymentFileStatus.ACCEPTED, summary={}, **fields)
                # Read, planned and written in rounds: a round is stored while the next is read and decided.
                _book_rounds(
                    ledger=ledger, file_row=file_row, payments=bank.payments(), references=bank.references(),
                    expected=bank.count,
                    actor=actor, summary=summary,
                )  # fmt: skip
                summary["status"] = PaymentFileStatus.ACCEPTED
                PaymentFile.objects.filter(pk=file_row.pk).update(summary=summary)
        except bankfiles.BankFileError as exc:  # found while reading: nothing of the file was kept
            raise PaymentFileRejected(exc.message, code=exc.code, line=exc.line) from exc
        except IntegrityError as exc:
            # Only a concurrent import of the same file or payments gets here (the ledger lock prevents it
            # within one database); nothing of this import was written.
            raise ValidationFailed(
                f"{file_name}: conflicts with a concurrent import: {exc}", code="import_conflict"
            ) from exc
    except FileRejected as exc:  # ours, or the ledger lookup's
        summary = _empty_summary(file_name, fmt, ledger)
        summary["status"] = PaymentFileStatus.REJECTED
        summary["errors"] = [exc.as_dict()]
        row = PaymentFile.objects.create(
            ledger=ledger,
            file_name=file_name[:255],
            format=fmt,
            digest=digest,
            size=len(data),
            status=PaymentFileStatus.REJECTED,
            summary=summary,
            created_by_id=created_by_id,
            actor=actor_label,
        )
        return {**summary, "payment_file": row.pk}
    return {**summary, "payment_file": file_row.pk}


def _book_rounds(
    *,
    ledger,
    file_row,
    payments: Iterator[bankfiles.BankPayment],
    references: set[str],
    expected: int,
    actor,
    summary,
    reconcile: bool = True,
):
    """Book the file's payments in rounds (FIRST_ROUND, then WRITE_CHUNK payments): each round's
    payments are checked (currency, kind, archive reference booked before), planned (`_Planner`) and
    built here, then stored by a `_BackgroundWriter` while the next round is read and planned.
    Fills in the summary's counts. With `reconcile`, a line bringing the money of a direct debit booked
    from its result file reconciles that debit instead of being booked (debit_reconciliation.py)."""
    planner = _Planner(ledger)
    awaiting = DebitsAwaitingMoney(ledger) if reconcile else None
    planner.preload(references)
    fields = _round_fields(ledger, file_row, actor)
    booked_by_date: dict[date, Decimal] = defaultdict(Decimal)
    booked = 0
    # The rows' ids for as many payments as the file declares, up front: the main thread's queries
    # wait for the writer's statement in progress, so the fewer it makes the better.
    ids = _IdBlock(expected)
    with _BackgroundWriter() as writer:
        size, first = FIRST_ROUND, True
        while batch := list(islice(payments, size)):
            bookable = _bookable(ledger, batch, summary)
            if awaiting is not None:
                bookable = awaiting.take(bookable, summary)
            plans = planner.plan(bookable)
            for plan in plans:
                summary[_OUTCOME_KEYS[plan.outcome]] += 1
                if plan.outcome == Payment.Outcome.MISDIRECTED:
                    summary["misdirected"] += 1
                booked_by_date[plan.bank.booking_date] += plan.amount
            booked += len(plans)
            if plans:
                ids.assign(plans)
                # Statistics before the key checks plan their lookups (ledger/dbstats.py): the first
                # round's payment rows are in the table by the time its postings are checked.
                writer.submit(_round(plans, analyze=first and expected >= BULK_SIZE, **fields))
                first = False
            size = WRITE_CHUNK
    if awaiting is not None:
        awaiting.record(file_row)
    summary["payments"] = booked
    summary["total_amount"] = str(to_money(sum(booked_by_date.values(), ZERO)))
    summary["booked_by_date"] = {d.isoformat(): str(to_money(a)) for d, a in sorted(booked_by_date.items())}


def _bookable(
    ledger: Ledger, batch: list[bankfiles.BankPayment], summary: dict
) -> list[bankfiles.BankPayment]:
    """The payments of a round that can be booked: incoming, in the ledger's currency, not booked before.
    The others are counted in the summary (errors, not_booked, duplicates_skipped)."""
    bookable = []
    for p in batch:
        if p.currency != ledger.currency:
            summary["errors"].append(
                _payment_error(
                    p,
                    "currency_mismatch",
                    f"{p.currency} {p.amount}: ledger {ledger.company_no} books {ledger.currency} only",
                )
            )
        elif p.kind != "payment" or p.amount <= 0:
            summary["errors"].append(
                _payment_error(
                    p, "not_a_payment", f"{p.kind} of {p.amount}: only incoming payments are booked"
                )
            )
        else:
            bookable.append(p)
    summary["not_booked"] = len(summary["errors"])
    already = _archive_refs_booked(ledger, [p.archive_ref for p in bookable])
    summary["duplicates_skipped"] += sum(1 for p in bookable if p.archive_ref in already)
    return [p for p in bookable if p.archive_ref not in already]


def _archive_refs_booked(ledger: Ledger, archive_refs: list[str]) -> set[str]:
    """Which of these bank archive references the ledger has booked already (one array parameter: a
    100,000-payment file would otherwise make a query of 100,000 placeholders)."""
    if not archive_refs:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            # A line that reconciled a direct debit booked from its result file was booked, in effect.
            """
            SELECT bank_archive_ref FROM ledger_payment WHERE ledger_id = %(ledger)s AND bank_archive_ref = ANY(%(refs)s::text[])
             UNION ALL
            SELECT reconciled_ref FROM ledger_directdebitattempt
             WHERE ledger_id = %(ledger)s AND reconciled_ref = ANY(%(refs)s::text[])
            """,
            {"ledger": ledger.id, "refs": archive_refs},
        )
        return {ref for (ref,) in cursor.fetchall()}


def payment_file_import(
    *,
    path: Path | str,
    company_no: str | None = None,
    format: str | None = None,
    actor: User | str | None = BANK_ACTOR,
) -> dict:
    """Import a bank payment file from disk (see payments_import)."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)  # one byte more than allowed is enough to refuse it
    return payments_import(data=data, file_name=path.name, company_no=company_no, format=format, actor=actor)
