"""What the direct-debit schemes share: their settings, errors, locks, KIDs and the claim record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import netsgiro
from django.conf import settings
from django.db import connection
from netsgiro import records as ng_records

from ledger import references
from ledger.errors import FileRejected, LedgerError, ValidationFailed
from ledger.models import (
    ConsentKind,
    Country,
    CustomerConsent,
    DebitAgreementFile,
    DirectDebitClaimFile,
    DirectDebitKind,
    Ledger,
)
from ledger.money import ZERO
from ledger.outbox import company_dir
from ledger.references import ReferenceScheme
from ledger.services.outbox_files import outbox_file_write, outbox_files_publish

BANK_ACTOR = "bank"
MAX_FILE_BYTES = 64 * 1024 * 1024
RECORD_LENGTH = 80
ENCODING = "iso-8859-1"  # Nets files, in and out

DEFAULT_DAYS_AHEAD = 9
# Nets wants AvtaleGiro claims at least 4 calendar days before the debit date (netsgiro's
# get_minimum_due_date); an invoice due sooner than that is left to the ordinary process.
MIN_NOTICE_DAYS = 4
# A debit is seen as failed when the invoice is still open this many days after the debit date.
SETTLE_DAYS = 2

NETS_RECIPIENT = "00008080"  # Nets' id as data recipient
KID_IDENTIFIER_SERIAL = "0" * references.KID_SERIAL_WIDTH

# Which direct-debit method a ledger's country uses, and the consent that allows it.
KIND_BY_COUNTRY = {
    Country.NORWAY: DirectDebitKind.AVTALEGIRO_NO,
    Country.SWEDEN: DirectDebitKind.AUTOGIRO_SE,
    Country.DENMARK: DirectDebitKind.BETALINGSSERVICE_DK,
}
CONSENT_BY_KIND = {
    DirectDebitKind.AVTALEGIRO_NO: ConsentKind.AVTALEGIRO_NO,
    DirectDebitKind.AUTOGIRO_SE: ConsentKind.AUTOGIRO_SE,
    # CUSIN has no payment rule for Betalingsservice: its consents come from Nets' agreement records only.
    DirectDebitKind.BETALINGSSERVICE_DK: ConsentKind.BETALINGSSERVICE_DK,
}
SUPPORTED_KINDS = set(CONSENT_BY_KIND)


@dataclass(frozen=True)
class _Scheme:
    currency: str
    notice_days: int  # claims go out at least this many days before the debit date
    file_prefix: str
    reference_label: str  # how invoice events name the reference in the claim
    invalid_code: str  # the skip code of an invoice the scheme cannot claim
    can_cancel: bool  # we can send the bank a cancellation of a claim sent earlier


SCHEMES = {
    DirectDebitKind.AVTALEGIRO_NO: _Scheme("NOK", MIN_NOTICE_DAYS, "AVTALEGIRO", "KID", "invalid_kid", True),
    # Bankgirot wants payment requests the banking day before the debit date; two calendar days leave
    # room for the file transfer.
    DirectDebitKind.AUTOGIRO_SE: _Scheme("SEK", 2, "AUTOGIRO", "reference", "not_claimable", True),
    # Nets wants Betalingsservice collections some banking days ahead; AvtaleGiro's notice is kept.
    # We send no cancellations: the collection delivery layout we follow has no cancel record.
    DirectDebitKind.BETALINGSSERVICE_DK: _Scheme(
        "DKK", MIN_NOTICE_DAYS, "BETALINGSSERVICE", "reference", "not_claimable", False
    ),
}

_LOCK_AGREEMENTS = 7301  # pg_advisory_xact_lock namespaces, one per kind of work on a ledger
_LOCK_CLAIMS = 7302

_RECORD_CLASSES = {
    cls.RECORD_TYPE: cls
    for cls in (getattr(ng_records, name) for name in ng_records.__all__)
    if isinstance(cls, type) and issubclass(cls, ng_records.Record) and hasattr(cls, "RECORD_TYPE")
}
# what datetime.strptime() says about a bad DDMMYY date inside netsgiro
_DATE_ERRORS = ("does not match format", "unconverted data remains", "out of range")


class DirectDebitFileError(LedgerError):
    code = "direct_debit_file_error"


class AgreementFileRejected(FileRejected):
    """An AvtaleGiro agreement file is refused whole."""


def _lock(ledger: Ledger, namespace: int) -> None:
    """One run of this kind per ledger at a time, until the end of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, ledger.pk % 2**31])


# --- Accounts and KIDs ----------------------------------------------------------------------------


def _account_digits(value: str) -> str:
    """A Norwegian account as its 11 digits: separators dropped, a NO IBAN reduced to its BBAN."""
    compact = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    if compact[:2] == "NO" and compact[2:].isdigit() and len(compact) == 15:
        compact = compact[4:]
    return compact


def _validate_kid(kid: str, ledger: Ledger) -> str:
    """The KID without spaces if it is one AvtaleGiro can carry (digits, check digit), else raise."""
    kid = "".join((kid or "").split())
    scheme = ReferenceScheme(ledger.reference_scheme)
    if scheme in (ReferenceScheme.KID_MOD10, ReferenceScheme.KID_MOD11):
        references.validate(kid, scheme=scheme)
    elif not references.has_valid_check_digit(kid):
        raise references.InvalidReference(f"KID {kid!r} has no valid check digit")
    if not (kid.isascii() and kid.isdigit()) or len(kid) > references.KID_MAX_LENGTH:
        raise references.InvalidReference(f"KID {kid!r} must be at most 25 digits 0-9")
    return kid


def kid_customer_no(kid: str) -> str:
    """The customer number inside a KID: without the check digit and the 4-digit serial (0000 when the KID
    is a customer identifier), and without leading zeros."""
    return kid[: -(references.KID_SERIAL_WIDTH + 1)].lstrip("0")


def _customer_no_variants(kid: str) -> set[str]:
    """The customer numbers a KID may stand for: the number, zero-padded up to the KID's customer part."""
    part = kid[: -(references.KID_SERIAL_WIDTH + 1)]
    number = part.lstrip("0")
    if not number:
        return set()
    return {number.zfill(width) for width in range(len(number), len(part) + 1)}


@dataclass(frozen=True)
class _Claim:
    invoice_id: int
    invoice_no: str
    invoice_date: date
    customer_id: int
    customer_name: str
    notify_payer: bool
    kid: str  # the payment reference the bank gets: the invoice's KID / OCR reference
    attempt_no: int
    amount: Decimal
    due_date: date
    payer: str = ""  # the payer's number in the claim: Autogiro payer number, Betalingsservice customer no
    agreement_no: str = ""  # Betalingsservice: the agreement (mandate) number, when the bank told us


# The invoices to claim now: (1) open invoices of consenting customers falling due in the window that
# have no attempt yet; (2) open invoices whose attempts all failed, fewer than the maximum. Each with
# what is open on it now (the sum of its postings).


def _kind_for(ledger: Ledger) -> DirectDebitKind | None:
    return KIND_BY_COUNTRY.get(Country(ledger.country)) if ledger.country in Country.values else None


def _not_supported(ledger: Ledger, kind: DirectDebitKind | None) -> dict:
    consent = CONSENT_BY_KIND.get(kind) if kind else None
    waiting = (
        CustomerConsent.objects.filter(ledger=ledger, kind=consent, active=True).count() if consent else 0
    )
    what = kind.label if kind else f"direct debit in {ledger.country}"
    return {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": kind.value if kind else None,
        "supported": False,
        "note": f"{what} is not supported yet: no claims are sent for ledger {ledger.company_no}",
        "consents_waiting": waiting,
        "file": None,
        "claims": 0,
    }


def _next_file_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [f'"{DirectDebitClaimFile._meta.db_table}"']
        )
        return cursor.fetchone()[0]


def _nets_id(setting: str, default: str, length: int) -> str:
    value = str(getattr(settings, setting, "") or default)
    if not (value.isdigit() and len(value) == length):
        raise ValidationFailed(
            f"settings.{setting} must be {length} digits, got {value!r}", code="nets_config"
        )
    return value


def _latin1(text: str, length: int | None = None) -> str:
    """Text ISO-8859-1 can carry, on one line, cut to `length`."""
    text = " ".join((text or "").split()).encode(ENCODING, errors="replace").decode(ENCODING)
    return text[:length] if length else text


def _bank_notification(ledger: Ledger, claim: _Claim, currency: str) -> str:
    """The text the bank sends the payer (transaction type 21): at most 42 lines of 80 characters."""
    lines = [
        f"Gjelder faktura {claim.invoice_no} datert {claim.invoice_date:%d.%m.%Y}",
        f"fra {ledger.client.name}",
        f"Beløp {claim.amount} {currency} trekkes {claim.due_date:%d.%m.%Y} (AvtaleGiro)",
    ]
    return "\n".join(_latin1(line, 80) for line in lines)


def _claim_file_invalid(exc: Exception) -> DirectDebitFileError:
    return DirectDebitFileError(f"the claim file is wrong: {exc}", code="claim_file_invalid")


def _check_claims_file(content: bytes, claims: list[_Claim]) -> None:
    """Read the file back with netsgiro: every claim with its KID, amount and date, and the end records'
    counts and totals (which netsgiro itself does not check)."""
    try:
        lines = content.decode(ENCODING).splitlines()
        recs = ng_records.parse("\n".join(lines))
        parsed = netsgiro.Transmission.from_records(list(recs))
        (assignment,) = parsed.assignments
        got = [(t.kid, t.amount, t.date) for t in assignment.transactions]
        end, assignment_end = recs[-1], recs[-2]
    except (ValueError, AssertionError) as exc:
        raise DirectDebitFileError(
            f"the claim file does not read back: {exc}", code="claim_file_invalid"
        ) from exc
    expected = [(c.kid, c.amount, c.due_date) for c in claims]
    total = sum((c.amount for c in claims), ZERO)
    minor = int(total * 100)
    problems = []
    if got != expected:
        problems.append("the claims read back differ from the claims sent")
    if (end.num_transactions, end.num_records, end.total_amount) != (len(claims), len(lines), minor):
        problems.append("the transmission end's counts or total are wrong")
    if (assignment_end.num_transactions, assignment_end.num_records, assignment_end.total_amount) != (
        len(claims),
        len(lines) - 2,
        minor,
    ):
        problems.append("the assignment end's counts or total are wrong")
    if any(len(line) != RECORD_LENGTH for line in lines):
        problems.append(f"a record is not {RECORD_LENGTH} characters")
    if problems:
        raise DirectDebitFileError(
            f"the claim file is wrong: {'; '.join(problems)}", code="claim_file_invalid"
        )


def _digits_only(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isascii() and ch.isdigit())


def _empty_agreement_summary(name: str, ledger: Ledger | None) -> dict:
    return {
        "file": name,
        "kind": DirectDebitKind.AVTALEGIRO_NO.value,
        "status": "",
        "ledger": ledger.company_no if ledger else None,
        "agreements": 0,
        "activated": 0,
        "cancelled": 0,
        "changed": 0,
        "unchanged": 0,
        "errors": [],
    }


def _agreement_file_record(
    *, ledger, kind, file_name, data, digest, status, summary, created_by_id, actor_label
) -> DebitAgreementFile:
    """The row kept for every agreement or result file received, whatever became of it."""
    return DebitAgreementFile.objects.create(
        ledger=ledger, kind=kind, file_name=file_name[:255], digest=digest, size=len(data),
        status=status, summary=summary, created_by_id=created_by_id, actor=actor_label,
    )  # fmt: skip


# The failure events of the attempts in `failed`: attempt N of 3 failed, and after the last one the
# reminder process takes over. Shared by the timeout rule and the bank's result files.
_FAILURE_EVENTS_SQL = """
, events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, f.invoice_id, e.kind, f.invoice_status, f.invoice_status, %(as_of)s,
           CASE WHEN e.ord = 1
                THEN format('Direct debit attempt %%s of %%s failed: %%s %%s, debit date %%s%%s',
                            f.attempt_no, %(max_attempts)s::int, f.amount, f.currency,
                            to_char(f.due_date, 'YYYY-MM-DD'),
                            CASE WHEN f.bank_result <> '' THEN ' (' || f.bank_result || ')' ELSE '' END)
                ELSE format('%%s direct debit attempts failed: the reminder process takes over',
                            f.attempt_no)
           END,
           NULL, %(created_by)s, %(actor)s, %(now)s
      FROM failed f
     CROSS JOIN (VALUES (%(failed_event)s, 1), (%(exhausted_event)s, 2)) AS e(kind, ord)
     WHERE e.ord = 1 OR f.attempt_no >= %(max_attempts)s
     ORDER BY f.invoice_no, f.invoice_id, e.ord
    RETURNING id
)
SELECT f.invoice_no, f.attempt_no, f.amount, f.due_date FROM failed f ORDER BY f.invoice_no, f.invoice_id
"""


_FAILED_RETURNING = """
    RETURNING a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, a.bank_result,
              i.status AS invoice_status, i.invoice_no, i.currency
"""


# Failed at the bank: the attempts a result file reports as not debited, with the bank's reason.
_BANK_FAILED_SQL = (
    """
WITH failed AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(failed)s, settled_on = %(as_of)s, settled_at = %(now)s, reason = v.reason,
           bank_outcome = %(bank_failed)s, bank_result = v.reason
      FROM ledger_invoice i, unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
     WHERE a.id = v.id AND i.id = a.invoice_id AND a.ledger_id = %(ledger)s AND a.status = %(sent)s"""
    + _FAILED_RETURNING
    + ")"
    + _FAILURE_EVENTS_SQL
)


def _claim_file_record(
    *, file_id, ledger, kind, purpose, file_name, as_of, claims, total, created_by_id, actor_label, now
) -> str:
    """The row of a claims or cancellations file we send (its count and total); returns its transmission
    number (the file id, seven digits)."""
    transmission_number = f"{file_id % 10**7:07d}"
    DirectDebitClaimFile.objects.create(
        id=file_id, ledger=ledger, kind=kind, purpose=purpose, file_name=file_name,
        transmission_number=transmission_number, as_of=as_of, count=len(claims),
        total=total, currency=ledger.currency, created_by_id=created_by_id,
        actor=actor_label, created_at=now,
    )  # fmt: skip
    return transmission_number


def _write_outbox(ledger: Ledger, file_name: str, content: bytes) -> Path:
    """Inside the transaction: the file under its hidden name, pending (ledger.services.outbox_files);
    published by the caller after the commit. Returns the hidden path, for a failed run to take back."""
    written: list[Path] = []
    outbox_file_write(
        ledger=ledger,
        path=company_dir(ledger.company_no, "outbox") / file_name,
        content=content,
        written=written,
    )
    return written[0]


@contextmanager
def outbox_round(ledger: Ledger) -> Iterator[list[Path]]:
    """Around a transaction that writes outbox files (`written.append(_write_outbox(...))` inside it): a
    failure, the commit's included, takes the hidden files back; once it has committed they are published
    (ledger.services.outbox_files)."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    outbox_files_publish(ledger=ledger)
