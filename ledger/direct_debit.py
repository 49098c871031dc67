"""Direct debit: consents from the bank's agreement files, payment claims to the bank, and their outcome.

Consents (`CustomerConsent`) come from two places: CUSIN payment rules (`customers_upsert`, "verified
payment") and the bank's agreement files, read here. Norway (AvtaleGiro) is supported end to end:

- `debit_agreements_import` books an AvtaleGiro agreement transmission from Nets (service code 21,
  assignment type 24; read with `netsgiro`): each agreement's KID names a customer, whose AvtaleGiro
  consent is activated, cancelled or changed (the payer's notification flag), with a customer event.
  Unknown KIDs are listed as errors, the rest is booked; a file is booked at most once (by digest).
- `debit_claims_send` claims the open invoices of consenting customers that fall due within the
  next `days_ahead` days (and retries failed ones) with one conditional INSERT of attempts, builds
  the AvtaleGiro payment-claim transmission (service code 21, assignment type 00) with `netsgiro`,
  reads it back to check it, and writes it atomically to the ledger's outbox, all in one database
  transaction: if anything fails, no attempt is recorded and no file is left behind.
- `debit_attempts_settle` marks sent attempts paid (nothing open on the invoice any more) or failed
  (still open two days after the debit date). A failed attempt is retried by the next
  `debit_claims_send`, up to DIRECT_DEBIT_MAX_ATTEMPTS; after the last failure the invoice is left to
  the reminder process, and an invoice event says so.

Sweden (Autogiro, by national id) and Denmark (Betalingsservice, by customer number) keep their
consents from CUSIN, but no claims are sent for them yet: `debit_claims_send` says so in its summary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import netsgiro
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from netsgiro import records as ng_records

from . import references
from .errors import FileRejected, LedgerError, ValidationFailed
from .models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
    ConsentKind,
    Country,
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    DebitAgreementFile,
    DirectDebitAttempt,
    DirectDebitClaimFile,
    DirectDebitKind,
    DirectDebitStatus,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    PaymentFileStatus,
    User,
)
from .money import ZERO, to_money
from .outbox import company_dir, write_atomic
from .references import ReferenceScheme
from .selectors import ledger_for_account
from .services import _actor_fields

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
    # Betalingsservice has no consent kind yet (CUSIN has no payment rule for it either).
}
SUPPORTED_KINDS = {DirectDebitKind.AVTALEGIRO_NO}

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


# --- Agreement files in (AvtaleGiro) ----------------------------------------------------------------


@dataclass(frozen=True)
class _Agreement:
    line: int
    number: int
    registration_type: netsgiro.AvtaleGiroRegistrationType
    kid: str
    notify: bool


@dataclass(frozen=True)
class _AgreementFile:
    transmission_number: str
    accounts: tuple[str, ...]
    agreements: tuple[_Agreement, ...]


def _lines(data: bytes) -> list[tuple[int, str]]:
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark added by some tool
        data = data[3:]
    text = data.decode(ENCODING)
    return [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]


def _parse_record(lineno: int, line: str):
    if len(line) != RECORD_LENGTH:
        raise AgreementFileRejected(
            f"Nets records are {RECORD_LENGTH} characters, got {len(line)}", code="malformed", line=lineno
        )
    try:
        record_type = netsgiro.RecordType(int(line[6:8])) if line[6:8].isdigit() else None
        if record_type not in _RECORD_CLASSES:
            raise ValueError(f"unknown record type {line[6:8]!r}")
        return _RECORD_CLASSES[record_type].from_string(line)
    except (ValueError, KeyError, TypeError) as exc:
        code = "bad_date" if any(m in str(exc) for m in _DATE_ERRORS) else "malformed"
        raise AgreementFileRejected(f"not a valid Nets record: {exc}", code=code, line=lineno) from exc


def parse_avtalegiro_agreements(data: bytes) -> _AgreementFile:
    """Read an AvtaleGiro agreement transmission; check its structure and its end records' counts."""
    lines = _lines(data)
    if not lines:
        raise AgreementFileRejected("empty file", code="malformed")
    recs = [(lineno, _parse_record(lineno, line)) for lineno, line in lines]
    first_line, start = recs[0]
    if not isinstance(start, ng_records.TransmissionStart):
        raise AgreementFileRejected(
            "the first record must be a transmission start (NY000010)", code="malformed", line=first_line
        )
    end_line, end = recs[-1]
    if not isinstance(end, ng_records.TransmissionEnd):
        raise AgreementFileRejected(
            "the last record must be a transmission end (NY000089); truncated?",
            code="malformed",
            line=end_line,
        )

    agreements: list[_Agreement] = []
    accounts: list[str] = []
    current: ng_records.AssignmentStart | None = None
    current_records = 0
    current_agreements = 0
    for lineno, rec in recs[1:-1]:
        if isinstance(rec, ng_records.AssignmentStart):
            if current is not None:
                raise AgreementFileRejected(
                    "assignment start before the previous assignment's end", code="malformed", line=lineno
                )
            if (
                rec.service_code != netsgiro.ServiceCode.AVTALEGIRO
                or rec.assignment_type != netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS
            ):
                raise AgreementFileRejected(
                    f"service code {int(rec.service_code):02d}, assignment type {int(rec.assignment_type):02d}: "
                    "not an AvtaleGiro agreement file (service code 21, assignment type 24)",
                    code="not_an_agreement_file",
                    line=lineno,
                )
            current, current_records, current_agreements = rec, 1, 0
            accounts.append(rec.assignment_account)
        elif current is None:
            raise AgreementFileRejected("a record outside an assignment", code="malformed", line=lineno)
        elif isinstance(rec, ng_records.AssignmentEnd):
            current_records += 1
            if (rec.num_transactions, rec.num_records) != (current_agreements, current_records):
                raise AgreementFileRejected(
                    f"the assignment end says {rec.num_transactions} agreements in {rec.num_records} records, "
                    f"the assignment has {current_agreements} in {current_records}",
                    code="control_totals",
                    line=lineno,
                )
            current = None
        elif isinstance(rec, ng_records.AvtaleGiroAgreement):
            current_records += 1
            current_agreements += 1
            agreements.append(
                _Agreement(
                    line=lineno,
                    number=rec.transaction_number,
                    registration_type=rec.registration_type,
                    kid=rec.kid or "",
                    notify=rec.notify,
                )
            )
        else:
            raise AgreementFileRejected(
                f"record type {int(rec.RECORD_TYPE)} does not belong in an agreement file",
                code="not_an_agreement_file",
                line=lineno,
            )
    if current is not None:
        raise AgreementFileRejected("the last assignment has no end record", code="malformed", line=end_line)
    if not accounts:
        raise AgreementFileRejected("the file has no assignment", code="not_an_agreement_file")
    if (end.num_transactions, end.num_records) != (len(agreements), len(recs)):
        raise AgreementFileRejected(
            f"the transmission end says {end.num_transactions} agreements in {end.num_records} records, "
            f"the file has {len(agreements)} in {len(recs)}",
            code="control_totals",
            line=end_line,
        )
    return _AgreementFile(
        transmission_number=start.transmission_number,
        accounts=tuple(dict.fromkeys(accounts)),
        agreements=tuple(agreements),
    )


def _ledger_for_agreements(accounts: tuple[str, ...], company_no: str | None) -> Ledger:
    ledger = ledger_for_account(accounts=accounts, company_no=company_no)
    if ledger.country != Country.NORWAY:
        raise AgreementFileRejected(
            f"ledger {ledger.company_no} is in {ledger.country}: AvtaleGiro is for Norwegian ledgers",
            code="wrong_country",
        )
    return ledger


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


def _agreement_error(agreement: _Agreement, code: str, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "line": agreement.line,
        "transaction_no": agreement.number,
        "kid": agreement.kid,
    }


def _customers_by_kid(ledger: Ledger, kids: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Customer id per KID: the customer of the invoice with that payment reference, else the customer
    whose number is inside the KID. Returns (found, ambiguous: KID -> the customer numbers it may be)."""
    by_ref = dict(
        Invoice.objects.filter(ledger=ledger, payment_ref__in=kids).values_list("payment_ref", "customer_id")
    )
    variants = {kid: _customer_no_variants(kid) for kid in kids if kid not in by_ref}
    numbers = set().union(*variants.values()) if variants else set()
    by_no = dict(
        Customer.objects.filter(ledger=ledger, customer_no__in=list(numbers)).values_list("customer_no", "id")
    )
    found, ambiguous = dict(by_ref), {}
    for kid, candidates in variants.items():
        matches = sorted(no for no in candidates if no in by_no)
        if len(matches) == 1:
            found[kid] = by_no[matches[0]]
        elif matches:
            ambiguous[kid] = matches
    return found, ambiguous


def debit_agreements_import(
    *,
    data: bytes,
    file_name: str,
    company_no: str | None = None,
    actor: User | str | None = BANK_ACTOR,
    booking_date: date | None = None,
) -> dict:
    """Book an AvtaleGiro agreement file from Nets; returns its summary (also kept on its row).

    status is "accepted" (booked; agreements that cannot be booked, such as unknown KIDs, are listed
    in errors), "duplicate" (the same content was booked before: nothing changes) or "rejected"
    (nothing booked; errors say why). activated / cancelled / changed / unchanged count the booked
    agreements: changed is a new notification choice on an active consent.
    """
    digest = hashlib.sha256(data).hexdigest()
    created_by_id, actor_label = _actor_fields(actor)
    ledger = None

    def record(status: str, summary: dict) -> DebitAgreementFile:
        return DebitAgreementFile.objects.create(
            ledger=ledger,
            kind=DirectDebitKind.AVTALEGIRO_NO,
            file_name=file_name[:255],
            digest=digest,
            size=len(data),
            status=status,
            summary=summary,
            created_by_id=created_by_id,
            actor=actor_label,
        )

    try:
        if len(data) > MAX_FILE_BYTES:
            raise AgreementFileRejected(
                f"the file has {len(data)} bytes; at most {MAX_FILE_BYTES} are accepted",
                code="file_too_large",
            )
        parsed = parse_avtalegiro_agreements(data)
        ledger = _ledger_for_agreements(parsed.accounts, company_no)
    except FileRejected as exc:  # ours, or the ledger lookup's
        summary = {**_empty_agreement_summary(file_name, ledger), "status": PaymentFileStatus.REJECTED}
        summary["errors"] = [exc.as_dict()]
        return {**summary, "agreement_file": record(PaymentFileStatus.REJECTED, summary).pk}

    booking_date = booking_date or ledger.today()
    summary = _empty_agreement_summary(file_name, ledger)
    summary["booking_date"] = booking_date.isoformat()
    summary["agreements"] = len(parsed.agreements)
    try:
        with transaction.atomic():
            _lock(ledger, _LOCK_AGREEMENTS)
            earlier = DebitAgreementFile.objects.filter(
                ledger=ledger, digest=digest, status=PaymentFileStatus.ACCEPTED
            ).first()
            if earlier is not None:
                summary["status"] = PaymentFileStatus.DUPLICATE
                summary["duplicate_of"] = {"agreement_file": earlier.pk, "file": earlier.file_name}
                return {**summary, "agreement_file": record(PaymentFileStatus.DUPLICATE, summary).pk}

            summary["status"] = PaymentFileStatus.ACCEPTED
            _apply_agreements(ledger, parsed.agreements, summary, file_name, booking_date, actor)
            row = record(PaymentFileStatus.ACCEPTED, summary)
    except IntegrityError as exc:
        raise ValidationFailed(
            f"{file_name}: conflicts with a concurrent import: {exc}", code="import_conflict"
        ) from exc
    return {**summary, "agreement_file": row.pk}


def _apply_agreements(ledger, agreements, summary, file_name, booking_date, actor) -> None:
    valid: list[tuple[_Agreement, str]] = []
    for agreement in agreements:
        try:
            valid.append((agreement, _validate_kid(agreement.kid, ledger)))
        except references.InvalidReference as exc:
            summary["errors"].append(_agreement_error(agreement, "invalid_kid", str(exc)))
    found, ambiguous = _customers_by_kid(ledger, sorted({kid for _, kid in valid}))
    consents = {
        c.customer_id: c
        for c in CustomerConsent.objects.select_for_update().filter(
            customer_id__in=set(found.values()), kind=ConsentKind.AVTALEGIRO_NO
        )
    }
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    to_create: dict[int, CustomerConsent] = {}
    to_update: dict[int, CustomerConsent] = {}
    events: list[CustomerEvent] = []
    source = f"AvtaleGiro {file_name}"[:100]

    def event(customer_id, kind, old, new):
        events.append(
            CustomerEvent(
                ledger=ledger,
                customer_id=customer_id,
                kind=kind,
                booking_date=booking_date,
                old_value=old,
                new_value=new,
                reason=file_name[:500],
                created_by_id=created_by_id,
                actor=actor_label,
                created_at=now,
            )
        )

    for agreement, kid in valid:
        customer_id = found.get(kid)
        if customer_id is None:
            if kid in ambiguous:
                summary["errors"].append(
                    _agreement_error(
                        agreement,
                        "ambiguous_kid",
                        f"KID {kid} may be customer {' or '.join(ambiguous[kid])} of ledger {ledger.company_no}",
                    )
                )
            else:
                summary["errors"].append(
                    _agreement_error(
                        agreement,
                        "unknown_kid",
                        f"KID {kid} is no customer (customer no {kid_customer_no(kid) or '0'}) "
                        f"and no invoice of ledger {ledger.company_no}",
                    )
                )
            continue
        consent = consents.get(customer_id)
        values = {"consent": ConsentKind.AVTALEGIRO_NO.value, "kid": kid, "notify_payer": agreement.notify}
        if agreement.registration_type == netsgiro.AvtaleGiroRegistrationType.DELETED_AGREEMENT:
            if consent is None or not consent.active:
                summary["unchanged"] += 1
                continue
            consent.active, consent.changed_on, consent.source = False, booking_date, source
            event(customer_id, CustomerEventKind.CONSENT_CANCELLED, {"consent": consent.kind}, values)
            summary["cancelled"] += 1
        elif consent is None:
            consent = CustomerConsent(
                ledger=ledger,
                customer_id=customer_id,
                kind=ConsentKind.AVTALEGIRO_NO,
                active=True,
                changed_on=booking_date,
                source=source,
                notify_payer=agreement.notify,
            )
            consents[customer_id] = to_create[customer_id] = consent
            event(customer_id, CustomerEventKind.CONSENT_ACTIVATED, {}, values)
            summary["activated"] += 1
            continue
        elif not consent.active:
            consent.active, consent.notify_payer = True, agreement.notify
            consent.changed_on, consent.source = booking_date, source
            event(customer_id, CustomerEventKind.CONSENT_ACTIVATED, {}, values)
            summary["activated"] += 1
        elif consent.notify_payer != agreement.notify:
            old = {"consent": consent.kind, "notify_payer": consent.notify_payer}
            consent.notify_payer, consent.changed_on, consent.source = agreement.notify, booking_date, source
            event(customer_id, CustomerEventKind.CONSENT_CHANGED, old, values)
            summary["changed"] += 1
        else:
            summary["unchanged"] += 1
            continue
        if consent.pk is not None:
            to_update[customer_id] = consent
    CustomerConsent.objects.bulk_create(to_create.values())
    CustomerConsent.objects.bulk_update(
        to_update.values(), ["active", "notify_payer", "changed_on", "source"], batch_size=1000
    )
    CustomerEvent.objects.bulk_create(events, batch_size=1000)


def debit_agreement_file_import(
    *,
    path: Path | str,
    company_no: str | None = None,
    actor: User | str | None = BANK_ACTOR,
    booking_date: date | None = None,
) -> dict:
    """Import an agreement file from disk (see debit_agreements_import)."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)  # one byte more than allowed is enough to refuse it
    return debit_agreements_import(
        data=data, file_name=path.name, company_no=company_no, actor=actor, booking_date=booking_date
    )


# --- Payment claims out (AvtaleGiro) ------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    invoice_id: int
    invoice_no: str
    invoice_date: date
    customer_id: int
    customer_name: str
    notify_payer: bool
    kid: str
    attempt_no: int
    amount: Decimal
    due_date: date


# The invoices to claim now: (1) open invoices of consenting customers falling due in the window that
# have no attempt yet; (2) open invoices whose attempts all failed, fewer than the maximum. Each with
# what is open on it now (the sum of its postings).
_CANDIDATES_SQL = """
WITH candidates AS (
    SELECT i.id AS invoice_id, 1 AS attempt_no, i.due_date AS claim_due
      FROM ledger_invoice i
     WHERE i.ledger_id = %(ledger)s AND i.status = %(open)s
       AND i.due_date BETWEEN %(earliest)s AND %(latest)s
       AND NOT EXISTS (SELECT 1 FROM ledger_directdebitattempt a WHERE a.invoice_id = i.id)
    UNION ALL
    SELECT f.invoice_id, f.last_no + 1, GREATEST(%(retry_due)s::date, i.due_date)
      FROM (SELECT a.invoice_id, max(a.attempt_no) AS last_no
              FROM ledger_directdebitattempt a
             WHERE a.ledger_id = %(ledger)s AND a.status = %(failed)s
             GROUP BY a.invoice_id
            HAVING max(a.attempt_no) < %(max_attempts)s) f
      JOIN ledger_invoice i ON i.id = f.invoice_id AND i.status = %(open)s
     WHERE NOT EXISTS (
           SELECT 1 FROM ledger_directdebitattempt a
            WHERE a.invoice_id = f.invoice_id AND a.status <> %(failed)s)
)
SELECT i.id, i.invoice_no, i.invoice_date, i.payment_ref, i.currency, i.customer_id, cu.name,
       cc.notify_payer, k.attempt_no, k.claim_due,
       COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                  WHERE p.invoice_id = i.id AND p.component <> ''), 0) AS open_amount
  FROM candidates k
  JOIN ledger_invoice i ON i.id = k.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
  JOIN ledger_customerconsent cc
    ON cc.customer_id = i.customer_id AND cc.kind = %(consent)s AND cc.active
 ORDER BY k.claim_due, i.invoice_no, i.id
"""

_CLAIM_SQL = """
WITH claimed AS (
    INSERT INTO ledger_directdebitattempt
           (ledger_id, invoice_id, customer_id, kind, attempt_no, amount, due_date, status, claim_file_id,
            sent_on, settled_on, settled_at, reason, created_by_id, actor, created_at)
    SELECT %(ledger)s, v.invoice_id, v.customer_id, %(kind)s, v.attempt_no, v.amount, v.due_date, %(sent)s,
           %(file)s, %(as_of)s, NULL, NULL, '', %(created_by)s, %(actor)s, %(now)s
      FROM unnest(%(invoices)s::bigint[], %(customers)s::bigint[], %(attempts)s::int[],
                  %(amounts)s::numeric[], %(dues)s::date[]) AS v(invoice_id, customer_id, attempt_no, amount, due_date)
     ORDER BY v.invoice_id
    -- Two workers: the second waits on the first one's rows, then skips them (unique (invoice, attempt_no)
    -- and at most one attempt in status "sent" per invoice).
    ON CONFLICT DO NOTHING
    RETURNING id, invoice_id, attempt_no, amount, due_date
), events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, c.invoice_id, %(event)s, i.status, i.status, %(as_of)s,
           format('Direct debit attempt %%s of %%s: %%s %%s, debit date %%s, KID %%s, file %%s',
                  c.attempt_no, %(max_attempts)s, c.amount, i.currency, to_char(c.due_date, 'YYYY-MM-DD'),
                  i.payment_ref, %(file_name)s),
           NULL, %(created_by)s, %(actor)s, %(now)s
      FROM claimed c JOIN ledger_invoice i ON i.id = c.invoice_id
     ORDER BY c.due_date, c.invoice_id
    RETURNING id
)
SELECT c.id, c.invoice_id FROM claimed c
"""


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


def avtalegiro_claims_file(
    *, ledger: Ledger, claims: list[_Claim], transmission_number: str, as_of: date
) -> bytes:
    """The AvtaleGiro payment-claim transmission (service code 21, assignment type 00) for the claims."""
    account = _account_digits(ledger.client_funds_account)
    if not account:
        raise ValidationFailed(
            f"ledger {ledger.company_no} has no client-funds account to claim into",
            code="bank_account_missing",
        )
    if not (account.isdigit() and len(account) == 11):
        raise ValidationFailed(
            f"ledger {ledger.company_no}: client-funds account {ledger.client_funds_account!r} is not an "
            "11-digit Norwegian account",
            code="invalid_bank_account",
        )
    transmission = netsgiro.Transmission(
        number=transmission_number,
        data_transmitter=_nets_id("NETS_DATA_TRANSMITTER", "0" * 8, 8),
        data_recipient=NETS_RECIPIENT,
        date=as_of,
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id=_nets_id("NETS_AVTALEGIRO_AGREEMENT_ID", "0" * 9, 9),
        number=transmission_number,
        account=account,
    )
    for claim in claims:
        assignment.add_payment_request(
            kid=claim.kid,
            due_date=claim.due_date,
            amount=claim.amount,
            reference=_latin1(f"Faktura {claim.invoice_no}", 25),
            payer_name=_latin1(claim.customer_name, 10) or None,
            # J: the payer wants notice, which the bank sends (type 21); N: type 02, we notify (no notice).
            bank_notification=(
                _bank_notification(ledger, claim, ledger.currency) if claim.notify_payer else False
            ),
        )
    content = (transmission.to_ocr() + "\n").encode(ENCODING)
    _check_claims_file(content, claims)
    return content


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


def debit_claims_send(
    *,
    ledger: Ledger,
    as_of: date,
    days_ahead: int = DEFAULT_DAYS_AHEAD,
    actor: User | str | None,
) -> dict:
    """Send the payment claims of the ledger's direct-debit invoices in one file in its outbox.

    First attempts: open invoices of customers with an active consent, due between as_of +
    MIN_NOTICE_DAYS and as_of + days_ahead, claimed for their due date. Retries: open invoices whose
    attempts all failed (fewer than DIRECT_DEBIT_MAX_ATTEMPTS), claimed for as_of + days_ahead (not
    before the invoice's due date). The amount is what is open on the invoice now; the KID its payment
    reference. Writes nothing and returns "claims": 0 when there is nothing to claim.
    """
    kind = _kind_for(ledger)
    if kind not in SUPPORTED_KINDS:
        return _not_supported(ledger, kind)
    if days_ahead < MIN_NOTICE_DAYS:
        raise ValidationFailed(
            f"days_ahead must be at least {MIN_NOTICE_DAYS} (Nets' notice for AvtaleGiro claims), got {days_ahead}",
            code="invalid_days_ahead",
            field="days_ahead",
        )
    if ledger.currency != "NOK":
        raise ValidationFailed(
            f"ledger {ledger.company_no} books {ledger.currency}: AvtaleGiro claims are in NOK",
            code="currency_mismatch",
        )
    created_by_id, actor_label = _actor_fields(actor)
    summary = {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": kind.value,
        "supported": True,
        "as_of": as_of.isoformat(),
        "file": None,
        "claims": 0,
        "first_attempts": 0,
        "retries": 0,
        "total": str(ZERO),
        "currency": ledger.currency,
        "skipped": [],
    }
    written: Path | None = None
    try:
        with transaction.atomic():
            _lock(ledger, _LOCK_CLAIMS)
            claims = _candidates(ledger, kind, as_of, days_ahead, summary)
            if not claims:
                return summary
            file_id = _next_file_id()
            sequence = DirectDebitClaimFile.objects.filter(ledger=ledger, kind=kind, as_of=as_of).count() + 1
            file_name = f"AVTALEGIRO_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(
                    _CLAIM_SQL,
                    {
                        "ledger": ledger.id,
                        "kind": kind.value,
                        "sent": DirectDebitStatus.SENT.value,
                        "file": file_id,
                        "file_name": file_name,
                        "as_of": as_of,
                        "created_by": created_by_id,
                        "actor": actor_label,
                        "now": now,
                        "event": InvoiceEventKind.DIRECT_DEBIT_SENT.value,
                        "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
                        "invoices": [c.invoice_id for c in claims],
                        "customers": [c.customer_id for c in claims],
                        "attempts": [c.attempt_no for c in claims],
                        "amounts": [c.amount for c in claims],
                        "dues": [c.due_date for c in claims],
                    },
                )
                got = {invoice_id for _, invoice_id in cursor.fetchall()}
            claims = [c for c in claims if c.invoice_id in got]
            if not claims:
                return summary
            total = sum((c.amount for c in claims), ZERO)
            transmission_number = f"{file_id % 10**7:07d}"
            DirectDebitClaimFile.objects.create(
                id=file_id,
                ledger=ledger,
                kind=kind,
                file_name=file_name,
                transmission_number=transmission_number,
                as_of=as_of,
                count=len(claims),
                total=total,
                currency=ledger.currency,
                created_by_id=created_by_id,
                actor=actor_label,
                created_at=now,
            )
            content = avtalegiro_claims_file(
                ledger=ledger, claims=claims, transmission_number=transmission_number, as_of=as_of
            )
            path = company_dir(ledger.company_no, "outbox") / file_name
            if path.exists():  # files we hand out are never rewritten
                raise DirectDebitFileError(f"{file_name} is already in the outbox", code="outbox_file_exists")
            try:
                written = write_atomic(path, content)
            except OSError as exc:
                raise DirectDebitFileError(
                    f"cannot write {file_name} to the outbox: {exc}", code="outbox_write_failed"
                ) from exc
    except BaseException:
        # Only the commit can fail after the write: nothing is recorded as sent, so the file must go.
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    summary.update(
        file=file_name,
        claims=len(claims),
        first_attempts=sum(1 for c in claims if c.attempt_no == 1),
        retries=sum(1 for c in claims if c.attempt_no > 1),
        total=str(total),
    )
    return summary


def _candidates(
    ledger: Ledger, kind: DirectDebitKind, as_of: date, days_ahead: int, summary: dict
) -> list[_Claim]:
    with connection.cursor() as cursor:
        cursor.execute(
            _CANDIDATES_SQL,
            {
                "ledger": ledger.id,
                "open": InvoiceStatus.OPEN.value,
                "failed": DirectDebitStatus.FAILED.value,
                "consent": CONSENT_BY_KIND[kind].value,
                "earliest": as_of + timedelta(days=MIN_NOTICE_DAYS),
                "latest": as_of + timedelta(days=days_ahead),
                "retry_due": as_of + timedelta(days=days_ahead),
                "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
            },
        )
        rows = cursor.fetchall()
    claims = []
    for (
        invoice_id,
        invoice_no,
        invoice_date,
        payment_ref,
        currency,
        customer_id,
        name,
        notify,
        attempt_no,
        due,
        open_amount,
    ) in rows:

        def skip(code: str, message: str, invoice_no=invoice_no, attempt_no=attempt_no) -> None:
            summary["skipped"].append(
                {"invoice_no": invoice_no, "attempt_no": attempt_no, "code": code, "message": message}
            )

        amount = to_money(open_amount)
        if currency != ledger.currency:
            skip(
                "currency_mismatch",
                f"the invoice is in {currency}, AvtaleGiro claims are in {ledger.currency}",
            )
            continue
        if amount <= 0:
            skip("nothing_open", f"nothing is open on the invoice ({amount})")
            continue
        try:
            kid = _validate_kid(payment_ref, ledger)
        except references.InvalidReference as exc:
            skip("invalid_kid", f"the payment reference cannot be an AvtaleGiro KID: {exc}")
            continue
        claims.append(
            _Claim(
                invoice_id=invoice_id,
                invoice_no=invoice_no,
                invoice_date=invoice_date,
                customer_id=customer_id,
                customer_name=name,
                notify_payer=notify,
                kid=kid,
                attempt_no=attempt_no,
                amount=amount,
                due_date=due,
            )
        )
    return claims


# --- Outcome of the attempts ----------------------------------------------------------------------------

_PAID_SQL = """
UPDATE ledger_directdebitattempt a
   SET status = %(paid)s, settled_on = %(as_of)s, settled_at = %(now)s,
       reason = CASE WHEN s.invoice_status = %(closed)s THEN 'Invoice closed' ELSE 'Nothing open on the invoice' END
  FROM (SELECT a2.id, i.status AS invoice_status,
               COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                          WHERE p.invoice_id = a2.invoice_id AND p.component <> ''), 0) AS open_amount
          FROM ledger_directdebitattempt a2 JOIN ledger_invoice i ON i.id = a2.invoice_id
         WHERE a2.ledger_id = %(ledger)s AND a2.status = %(sent)s) s
 WHERE a.id = s.id AND (s.invoice_status = %(closed)s OR s.open_amount <= 0)
RETURNING a.id
"""

_FAILED_SQL = """
WITH failed AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(failed)s, settled_on = %(as_of)s, settled_at = %(now)s,
           reason = format('Not paid %%s days after the debit date %%s', %(settle_days)s::int,
                           to_char(a.due_date, 'YYYY-MM-DD'))
      FROM ledger_invoice i
     WHERE i.id = a.invoice_id AND a.ledger_id = %(ledger)s AND a.status = %(sent)s
       AND a.due_date < %(cutoff)s
    RETURNING a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, i.status AS invoice_status,
              i.invoice_no, i.currency
), events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, f.invoice_id, e.kind, f.invoice_status, f.invoice_status, %(as_of)s,
           CASE WHEN e.ord = 1
                THEN format('Direct debit attempt %%s of %%s failed: %%s %%s, debit date %%s',
                            f.attempt_no, %(max_attempts)s::int, f.amount, f.currency,
                            to_char(f.due_date, 'YYYY-MM-DD'))
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


def debit_attempts_settle(*, ledger: Ledger, as_of: date, actor: User | str | None) -> dict:
    """Settle the ledger's sent attempts as of `as_of`: paid when nothing is open on the invoice any more
    (or it is closed), failed when it is still open more than SETTLE_DAYS days after the debit date.

    Each failure is an invoice event `direct_debit_failed`; the last allowed failure also records
    `direct_debit_exhausted` (the reminder process takes over). Safe to run twice for the same day."""
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    params = {
        "ledger": ledger.id,
        "as_of": as_of,
        "now": now,
        "sent": DirectDebitStatus.SENT.value,
        "paid": DirectDebitStatus.PAID.value,
        "failed": DirectDebitStatus.FAILED.value,
        "closed": InvoiceStatus.CLOSED.value,
        "cutoff": as_of - timedelta(days=SETTLE_DAYS),
        "settle_days": SETTLE_DAYS,
        "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
        "failed_event": InvoiceEventKind.DIRECT_DEBIT_FAILED.value,
        "exhausted_event": InvoiceEventKind.DIRECT_DEBIT_EXHAUSTED.value,
        "created_by": created_by_id,
        "actor": actor_label,
    }
    with transaction.atomic():
        _lock(ledger, _LOCK_CLAIMS)
        with connection.cursor() as cursor:
            cursor.execute(_PAID_SQL, params)
            paid = cursor.rowcount
            cursor.execute(_FAILED_SQL, params)
            failures = [
                {
                    "invoice_no": invoice_no,
                    "attempt_no": attempt_no,
                    "amount": str(amount),
                    "due_date": due.isoformat(),
                    "final": attempt_no >= DIRECT_DEBIT_MAX_ATTEMPTS,
                }
                for invoice_no, attempt_no, amount, due in cursor.fetchall()
            ]
    return {
        "ok": True,
        "ledger": ledger.company_no,
        "as_of": as_of.isoformat(),
        "paid": paid,
        "failed": len(failures),
        "exhausted": sum(1 for f in failures if f["final"]),
        "failures": failures,
    }


# --- Reads ------------------------------------------------------------------------------------------------


def invoices_in_direct_debit(*, ledger: Ledger) -> QuerySet[Invoice]:
    """Invoices direct debit is still in charge of, which the reminder process should leave alone: a claim
    is out at the bank, or attempts failed and another one is due (fewer than the maximum, consent active).
    """
    attempts = DirectDebitAttempt.objects.filter(invoice=OuterRef("pk"))
    consenting = CustomerConsent.objects.filter(
        customer=OuterRef("customer_id"), kind__in=list(CONSENT_BY_KIND.values()), active=True
    )
    awaiting_retry = (
        Exists(attempts.filter(status=DirectDebitStatus.FAILED))
        & ~Exists(attempts.exclude(status=DirectDebitStatus.FAILED))
        & ~Exists(attempts.filter(attempt_no__gte=DIRECT_DEBIT_MAX_ATTEMPTS))
        & Exists(consenting)
    )
    return Invoice.objects.filter(ledger=ledger).filter(
        Exists(attempts.filter(status=DirectDebitStatus.SENT)) | awaiting_retry
    )
