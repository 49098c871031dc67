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

Sweden (Autogiro, Bankgirot) and Denmark (Betalingsservice, Nets) run through the same functions; the
ledger's country picks the scheme (SCHEMES). Their files are read and written by our own small modules,
`ledger.payments.bankfiles.autogiro` and `ledger.payments.bankfiles.betalingsservice` (layouts and sources in their
docstrings):

- Autogiro consents are keyed by the payer number Bankgirot knows (the customer's national id, RegNo);
  Betalingsservice consents by customer number. `debit_agreements_import` also reads Bankgirot's
  mandate notices (TK73) and Nets' agreement records (BS042 0230-0234), and the debits' outcome:
  Bankgirot's payment specification (TK82 with a result code) and Nets' payment information (BS042
  0236-0238). A failed debit fails its attempt at once (retried by the usual rule); an approved one waits
  for its money, booked from the bank's payment file like any payment, and then settles as paid.
- `debit_claims_cancel` cancels claims whose invoice was paid, credited or written off before the debit
  date: an AvtaleGiro cancellation transmission (transaction type 93) or Autogiro TK23 records, once
  per claim. Betalingsservice claims are not cancelled (reported).
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

from ledger import references
from ledger.errors import FileRejected, LedgerError, ValidationFailed
from ledger.models import (
    DIRECT_DEBIT_MAX_ATTEMPTS,
    ConsentKind,
    Country,
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    DebitAgreementFile,
    DirectDebitAttempt,
    DirectDebitBankOutcome,
    DirectDebitClaimFile,
    DirectDebitFilePurpose,
    DirectDebitKind,
    DirectDebitStatus,
    Invoice,
    InvoiceEventKind,
    InvoiceStatus,
    Ledger,
    PaymentFileStatus,
    User,
)
from ledger.money import ZERO, to_money
from ledger.outbox import company_dir, write_atomic
from ledger.payments.bankfiles import autogiro, betalingsservice
from ledger.payments.bankfiles.model import BankFileError
from ledger.references import ReferenceScheme
from ledger.selectors import ledger_for_account
from ledger.services import _actor_fields

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

    Also reads the Autogiro and Betalingsservice files from the bank (mandate notices, payment results,
    agreement and payment information; see _scheme_file_import): their summary adds results /
    approved / renewed / failed / exhausted.

    status is "accepted" (booked; agreements that cannot be booked, such as unknown KIDs, are listed
    in errors), "duplicate" (the same content was booked before: nothing changes) or "rejected"
    (nothing booked; errors say why). activated / cancelled / changed / unchanged count the booked
    agreements: changed is a new notification choice on an active consent.
    """
    digest = hashlib.sha256(data).hexdigest()
    scheme_file = _scheme_file(data) if len(data) <= MAX_FILE_BYTES else None
    if scheme_file is not None:
        kind, what = scheme_file
        return _scheme_file_import(
            kind=kind,
            what=what,
            data=data,
            file_name=file_name,
            digest=digest,
            company_no=company_no,
            actor=actor,
            booking_date=booking_date,
        )
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
    kid: str  # the payment reference the bank gets: the invoice's KID / OCR reference
    attempt_no: int
    amount: Decimal
    due_date: date
    payer: str = ""  # the payer's number in the claim: Autogiro payer number, Betalingsservice customer no
    agreement_no: str = ""  # Betalingsservice: the agreement (mandate) number, when the bank told us


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
       cc.notify_payer, k.attempt_no, k.claim_due, cc.bank_ref, cu.national_id, cu.customer_no,
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
            sent_on, settled_on, settled_at, reason, payer_ref, bank_outcome, bank_result, created_by_id, actor,
            created_at)
    SELECT %(ledger)s, v.invoice_id, v.customer_id, %(kind)s, v.attempt_no, v.amount, v.due_date, %(sent)s,
           %(file)s, %(as_of)s, NULL, NULL, '', v.payer_ref, '', '', %(created_by)s, %(actor)s, %(now)s
      FROM unnest(%(invoices)s::bigint[], %(customers)s::bigint[], %(attempts)s::int[],
                  %(amounts)s::numeric[], %(dues)s::date[], %(payers)s::text[])
           AS v(invoice_id, customer_id, attempt_no, amount, due_date, payer_ref)
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
           format('Direct debit attempt %%s of %%s: %%s %%s, debit date %%s, %%s %%s, file %%s',
                  c.attempt_no, %(max_attempts)s, c.amount, i.currency, to_char(c.due_date, 'YYYY-MM-DD'),
                  %(ref_label)s, i.payment_ref, %(file_name)s),
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
    *, ledger: Ledger, claims: list[_Claim], transmission_number: str, as_of: date, cancel: bool = False
) -> bytes:
    """The AvtaleGiro payment-claim transmission (service code 21, assignment type 00) for the claims, or
    with cancel=True their cancellation (assignment type 36, transaction type 93): each cancellation
    repeats its claim's KID, debit date, amount, reference and payer name, as Nets requires."""
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
        assignment_type=(
            netsgiro.AssignmentType.AVTALEGIRO_CANCELLATIONS
            if cancel
            else netsgiro.AssignmentType.TRANSACTIONS
        ),
        agreement_id=_nets_id("NETS_AVTALEGIRO_AGREEMENT_ID", "0" * 9, 9),
        number=transmission_number,
        account=account,
    )
    for claim in claims:
        if cancel:
            assignment.add_payment_cancellation(
                kid=claim.kid,
                due_date=claim.due_date,
                amount=claim.amount,
                reference=_latin1(f"Faktura {claim.invoice_no}", 25),
                payer_name=_latin1(claim.customer_name, 10) or None,
            )
            continue
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


def _claim_file_invalid(exc: Exception) -> DirectDebitFileError:
    return DirectDebitFileError(f"the claim file is wrong: {exc}", code="claim_file_invalid")


def _bankgiro(ledger: Ledger) -> str:
    if not ledger.client_funds_account:
        raise ValidationFailed(
            f"ledger {ledger.company_no} has no client-funds account to claim into",
            code="bank_account_missing",
        )
    try:
        return autogiro.bankgiro_digits(ledger.client_funds_account)
    except ValueError as exc:
        raise ValidationFailed(
            f"ledger {ledger.company_no}: client-funds account {ledger.client_funds_account!r} is no "
            f"bankgiro number, which Autogiro needs ({exc})",
            code="invalid_bank_account",
        ) from exc


def autogiro_requests_file(
    *, ledger: Ledger, claims: list[_Claim], as_of: date, cancel: bool = False
) -> bytes:
    """The Autogiro payment-request file (TK01, a TK82 per claim) for the claims, or with cancel=True
    their cancellations (a TK23 per claim, repeating its payer number, date, amount and reference).
    Read back before it is handed out."""
    items = [
        autogiro.PaymentRequest(payer_number=c.payer, amount=c.amount, debit_date=c.due_date, reference=c.kid)
        for c in claims
    ]
    try:
        content = autogiro.payment_requests_file(
            write_date=as_of,
            customer_number=_nets_id("BANKGIROT_CUSTOMER_NUMBER", "0" * 6, 6),
            bankgiro=_bankgiro(ledger),
            requests=() if cancel else items,
            cancellations=items if cancel else (),
        )
        back = autogiro.parse_payment_requests(content)
    except ValueError as exc:  # BankFileError is one too
        raise _claim_file_invalid(exc) from exc
    got = back.cancellations if cancel else back.requests
    want = [(i.payer_number.lstrip("0"), i.amount, i.debit_date, i.reference) for i in items]
    if [(g.payer_number, g.amount, g.debit_date, g.reference) for g in got] != want or (
        back.requests if cancel else back.cancellations
    ):
        raise _claim_file_invalid(ValueError("the records read back differ from the claims"))
    return content


def betalingsservice_delivery(
    *, ledger: Ledger, claims: list[_Claim], delivery_id: str, as_of: date
) -> bytes:
    """The Betalingsservice collection delivery (BS002, section 0112 of 0280 records, BS092, BS992) for
    the claims; read back (counts and totals checked) before it is handed out."""
    items = [
        betalingsservice.Collection(
            customer_no=c.payer,
            agreement_no=c.agreement_no,
            amount=c.amount,
            debit_date=c.due_date,
            reference=c.kid,
        )
        for c in claims
    ]
    try:
        content = betalingsservice.collection_delivery(
            cvr=_nets_id("NETS_BS_CVR", "0" * 8, 8),
            pbs_no=_nets_id("NETS_BS_PBS_NO", "0" * 8, 8),
            debtor_group=_nets_id("NETS_BS_DEBTOR_GROUP", "00001", 5),
            delivery_id=delivery_id,
            day=as_of,
            collections=items,
        )
        back = betalingsservice.parse_delivery(content)
    except ValueError as exc:
        raise _claim_file_invalid(exc) from exc
    want = [(i.customer_no, i.agreement_no or "0", i.amount, i.debit_date, i.reference) for i in items]
    got = [(p.customer_no, p.agreement_no, p.amount, p.debit_date, p.reference) for p in back.payments]
    if got != want:
        raise _claim_file_invalid(ValueError("the records read back differ from the claims"))
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

    The scheme follows the ledger's country: AvtaleGiro (Norway, a Nets claim transmission), Autogiro
    (Sweden, a Bankgirot payment-request file), Betalingsservice (Denmark, a Nets collection delivery).
    First attempts: open invoices of customers with an active consent, due between as_of + the scheme's
    notice days and as_of + days_ahead, claimed for their due date. Retries: open invoices whose
    attempts all failed (fewer than DIRECT_DEBIT_MAX_ATTEMPTS), claimed for as_of + days_ahead (not
    before the invoice's due date). The amount is what is open on the invoice now; the reference its
    payment reference. Writes nothing and returns "claims": 0 when there is nothing to claim.
    """
    kind = _kind_for(ledger)
    if kind not in SUPPORTED_KINDS:
        return _not_supported(ledger, kind)
    scheme = SCHEMES[kind]
    if days_ahead < scheme.notice_days:
        raise ValidationFailed(
            f"days_ahead must be at least {scheme.notice_days} (the notice {kind.label} claims need), "
            f"got {days_ahead}",
            code="invalid_days_ahead",
            field="days_ahead",
        )
    if ledger.currency != scheme.currency:
        raise ValidationFailed(
            f"ledger {ledger.company_no} books {ledger.currency}: {kind.label} claims are in {scheme.currency}",
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
            sequence = (
                DirectDebitClaimFile.objects.filter(
                    ledger=ledger, kind=kind, as_of=as_of, purpose=DirectDebitFilePurpose.CLAIMS
                ).count()
                + 1
            )
            file_name = f"{scheme.file_prefix}_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
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
                        "ref_label": scheme.reference_label,
                        "invoices": [c.invoice_id for c in claims],
                        "customers": [c.customer_id for c in claims],
                        "attempts": [c.attempt_no for c in claims],
                        "amounts": [c.amount for c in claims],
                        "dues": [c.due_date for c in claims],
                        "payers": [c.payer or c.kid for c in claims],
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
                purpose=DirectDebitFilePurpose.CLAIMS,
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
            content = _claims_content(kind, ledger, claims, transmission_number, as_of)
            written = _write_outbox(ledger, file_name, content)
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


def _write_outbox(ledger: Ledger, file_name: str, content: bytes) -> Path:
    path = company_dir(ledger.company_no, "outbox") / file_name
    if path.exists():  # files we hand out are never rewritten
        raise DirectDebitFileError(f"{file_name} is already in the outbox", code="outbox_file_exists")
    try:
        return write_atomic(path, content)
    except OSError as exc:
        raise DirectDebitFileError(
            f"cannot write {file_name} to the outbox: {exc}", code="outbox_write_failed"
        ) from exc


def _claims_content(
    kind: DirectDebitKind, ledger: Ledger, claims: list[_Claim], transmission_number: str, as_of: date
) -> bytes:
    if kind == DirectDebitKind.AVTALEGIRO_NO:
        return avtalegiro_claims_file(
            ledger=ledger, claims=claims, transmission_number=transmission_number, as_of=as_of
        )
    if kind == DirectDebitKind.AUTOGIRO_SE:
        return autogiro_requests_file(ledger=ledger, claims=claims, as_of=as_of)
    return betalingsservice_delivery(
        ledger=ledger, claims=claims, delivery_id=str(int(transmission_number)), as_of=as_of
    )


def _payer_and_reference(
    kind, ledger, payment_ref, bank_ref, national_id, customer_no
) -> tuple[str, str, str]:
    """(payer, reference, agreement no) a claim of this scheme carries, or raise InvalidReference saying
    why the invoice cannot be claimed."""
    if kind == DirectDebitKind.AVTALEGIRO_NO:
        return "", _validate_kid(payment_ref, ledger), ""
    reference = "".join((payment_ref or "").split())
    if kind == DirectDebitKind.AUTOGIRO_SE:
        payer = _digits_only(bank_ref) or _digits_only(national_id)
        if not payer or len(payer) > 16:
            raise references.InvalidReference(
                "the customer has no national id (RegNo) or Autogiro payer number of at most 16 digits"
            )
        if len(reference) > 16:
            raise references.InvalidReference(
                f"reference {reference!r} is longer than Autogiro's 16 characters"
            )
        return payer, reference, ""
    number = (customer_no or "").lstrip("0")
    if not (number.isascii() and number.isdigit()) or len(number) > 15:
        raise references.InvalidReference(
            f"customer no {customer_no!r} must be at most 15 digits: Betalingsservice knows the customer by it"
        )
    agreement = _digits_only(bank_ref).lstrip("0")
    if len(agreement) > 9 or len(reference) > 30:
        raise references.InvalidReference("agreement no or reference too long for Betalingsservice")
    return number, reference, agreement


def _digits_only(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isascii() and ch.isdigit())


def _candidates(
    ledger: Ledger, kind: DirectDebitKind, as_of: date, days_ahead: int, summary: dict
) -> list[_Claim]:
    scheme = SCHEMES[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            _CANDIDATES_SQL,
            {
                "ledger": ledger.id,
                "open": InvoiceStatus.OPEN.value,
                "failed": DirectDebitStatus.FAILED.value,
                "consent": CONSENT_BY_KIND[kind].value,
                "earliest": as_of + timedelta(days=scheme.notice_days),
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
        bank_ref,
        national_id,
        customer_no,
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
                f"the invoice is in {currency}, {kind.label} claims are in {ledger.currency}",
            )
            continue
        if amount <= 0:
            skip("nothing_open", f"nothing is open on the invoice ({amount})")
            continue
        try:
            payer, reference, agreement = _payer_and_reference(
                kind, ledger, payment_ref, bank_ref, national_id, customer_no
            )
        except references.InvalidReference as exc:
            skip(scheme.invalid_code, f"the invoice cannot be claimed by {kind.label}: {exc}")
            continue
        claims.append(
            _Claim(
                invoice_id=invoice_id,
                invoice_no=invoice_no,
                invoice_date=invoice_date,
                customer_id=customer_id,
                customer_name=name,
                notify_payer=notify,
                kid=reference,
                attempt_no=attempt_no,
                amount=amount,
                due_date=due,
                payer=payer,
                agreement_no=agreement,
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
   -- before the debit date an invoice settled otherwise is a claim to cancel (debit_claims_cancel)
   AND a.due_date <= %(as_of)s
RETURNING a.id
"""

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

# Late: still open SETTLE_DAYS after the debit date. A debit the bank reported approved waits for its
# money instead (it is booked from the bank's payment file).
_FAILED_SQL = (
    """
WITH failed AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(failed)s, settled_on = %(as_of)s, settled_at = %(now)s,
           reason = format('Not paid %%s days after the debit date %%s', %(settle_days)s::int,
                           to_char(a.due_date, 'YYYY-MM-DD'))
      FROM ledger_invoice i
     WHERE i.id = a.invoice_id AND a.ledger_id = %(ledger)s AND a.status = %(sent)s
       AND a.due_date < %(cutoff)s AND a.bank_outcome <> %(approved)s"""
    + _FAILED_RETURNING
    + ")"
    + _FAILURE_EVENTS_SQL
)

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
        "approved": DirectDebitBankOutcome.APPROVED.value,
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


# --- Cancelling claims settled otherwise before the debit date ----------------------------------------------

# Sent attempts whose invoice no longer needs the debit (closed, or nothing open: paid, credited or
# written off) while the debit date is still ahead.
_TO_CANCEL_SQL = """
SELECT a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, a.payer_ref, i.invoice_no, i.invoice_date,
       i.payment_ref, i.customer_id, cu.name, i.status
  FROM ledger_directdebitattempt a
  JOIN ledger_invoice i ON i.id = a.invoice_id
  JOIN ledger_customer cu ON cu.id = i.customer_id
 WHERE a.ledger_id = %(ledger)s AND a.status = %(sent)s AND a.kind = %(kind)s AND a.due_date > %(as_of)s
   AND (i.status = %(closed)s
        OR COALESCE((SELECT sum(p.amount) FROM ledger_posting p
                      WHERE p.invoice_id = i.id AND p.component <> ''), 0) <= 0)
 ORDER BY a.due_date, i.invoice_no, a.id
   FOR UPDATE OF a
"""

_CANCEL_SQL = """
WITH cancelled AS (
    UPDATE ledger_directdebitattempt a
       SET status = %(cancelled)s, settled_on = %(as_of)s, settled_at = %(now)s, cancel_file_id = %(file)s,
           reason = v.reason
      FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS v(id, reason)
     WHERE a.id = v.id AND a.status = %(sent)s
    RETURNING a.id, a.invoice_id, a.attempt_no, a.amount, a.due_date, v.reason
), events AS (
    INSERT INTO ledger_invoiceevent
           (ledger_id, invoice_id, kind, from_status, to_status, booking_date, reason, transaction_id,
            created_by_id, actor, created_at)
    SELECT %(ledger)s, c.invoice_id, %(event)s, i.status, i.status, %(as_of)s,
           format('Direct debit attempt %%s cancelled before the debit date %%s (%%s %%s): %%s; file %%s',
                  c.attempt_no, to_char(c.due_date, 'YYYY-MM-DD'), c.amount, i.currency, c.reason,
                  %(file_name)s),
           NULL, %(created_by)s, %(actor)s, %(now)s
      FROM cancelled c JOIN ledger_invoice i ON i.id = c.invoice_id
     ORDER BY c.due_date, c.invoice_id
    RETURNING id
)
SELECT c.id FROM cancelled c
"""


def debit_claims_cancel(*, ledger: Ledger, as_of: date, actor: User | str | None) -> dict:
    """Cancel the claims at the bank whose invoice was paid, credited or written off before the debit date.

    AvtaleGiro: a Nets cancellation transmission (assignment type 36, transaction type 93); Autogiro: a
    request file of TK23 cancellations. Each claim is cancelled once: its attempt becomes "cancelled"
    with the cancellation file, and the invoice records a `direct_debit_cancelled` event. File, attempts
    and events are written together or not at all. Betalingsservice claims are not cancelled (listed
    in "not_cancellable"): the money, if debited, becomes the customer's credit balance.
    """
    kind = _kind_for(ledger)
    summary = {
        "ok": True,
        "ledger": ledger.company_no,
        "kind": kind.value if kind else None,
        "as_of": as_of.isoformat(),
        "file": None,
        "cancelled": 0,
        "total": str(ZERO),
        "not_cancellable": [],
    }
    if kind not in SUPPORTED_KINDS:
        return summary
    scheme = SCHEMES[kind]
    created_by_id, actor_label = _actor_fields(actor)
    written: Path | None = None
    try:
        with transaction.atomic():
            _lock(ledger, _LOCK_CLAIMS)
            with connection.cursor() as cursor:
                cursor.execute(
                    _TO_CANCEL_SQL,
                    {
                        "ledger": ledger.id,
                        "sent": DirectDebitStatus.SENT.value,
                        "kind": kind.value,
                        "as_of": as_of,
                        "closed": InvoiceStatus.CLOSED.value,
                    },
                )
                rows = cursor.fetchall()
            if not rows:
                return summary
            if not scheme.can_cancel:
                summary["not_cancellable"] = [
                    {"invoice_no": row[6], "attempt_no": row[2], "due_date": row[4].isoformat()}
                    for row in rows
                ]
                return summary
            claims, reasons = [], []
            for (
                _id,
                invoice_id,
                attempt_no,
                amount,
                due,
                payer_ref,
                invoice_no,
                invoice_date,
                payment_ref,
                customer_id,
                name,
                status,
            ) in rows:
                claims.append(
                    _Claim(
                        invoice_id=invoice_id,
                        invoice_no=invoice_no,
                        invoice_date=invoice_date,
                        customer_id=customer_id,
                        customer_name=name,
                        notify_payer=False,
                        kid=payment_ref,
                        attempt_no=attempt_no,
                        amount=to_money(amount),
                        due_date=due,
                        payer=payer_ref,
                    )
                )
                reasons.append(
                    "invoice closed" if status == InvoiceStatus.CLOSED else "nothing open on the invoice"
                )
            file_id = _next_file_id()
            sequence = (
                DirectDebitClaimFile.objects.filter(
                    ledger=ledger, kind=kind, as_of=as_of, purpose=DirectDebitFilePurpose.CANCELLATIONS
                ).count()
                + 1
            )
            file_name = f"{scheme.file_prefix}_CANCEL_{ledger.company_no}_{as_of:%Y%m%d}_{sequence}.txt"
            total = sum((c.amount for c in claims), ZERO)
            now = timezone.now()
            transmission_number = f"{file_id % 10**7:07d}"
            DirectDebitClaimFile.objects.create(
                id=file_id,
                ledger=ledger,
                kind=kind,
                purpose=DirectDebitFilePurpose.CANCELLATIONS,
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
            with connection.cursor() as cursor:
                cursor.execute(
                    _CANCEL_SQL,
                    {
                        "ledger": ledger.id,
                        "cancelled": DirectDebitStatus.CANCELLED.value,
                        "sent": DirectDebitStatus.SENT.value,
                        "as_of": as_of,
                        "now": now,
                        "file": file_id,
                        "file_name": file_name,
                        "event": InvoiceEventKind.DIRECT_DEBIT_CANCELLED.value,
                        "created_by": created_by_id,
                        "actor": actor_label,
                        "ids": [row[0] for row in rows],
                        "reasons": reasons,
                    },
                )
                if cursor.rowcount != len(rows):  # the rows are locked: nobody else can have settled them
                    raise DirectDebitFileError("attempts changed while cancelling", code="cancel_conflict")
            if kind == DirectDebitKind.AVTALEGIRO_NO:
                content = avtalegiro_claims_file(
                    ledger=ledger,
                    claims=claims,
                    transmission_number=transmission_number,
                    as_of=as_of,
                    cancel=True,
                )
            else:
                content = autogiro_requests_file(ledger=ledger, claims=claims, as_of=as_of, cancel=True)
            written = _write_outbox(ledger, file_name, content)
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    summary.update(file=file_name, cancelled=len(claims), total=str(total))
    return summary


# --- Agreement and result files from Bankgirot (Autogiro) and Nets (Betalingsservice) ----------------------


@dataclass(frozen=True)
class _ConsentNotice:
    line: int
    payer: str  # the number the bank names the payer by
    national_id: str  # Autogiro: the payer's national id, when given
    active: bool | None  # None: a notice that changes nothing
    bank_ref: str
    text: str


@dataclass(frozen=True)
class _ResultNotice:
    line: int
    reference: str
    amount: Decimal
    debit_date: date
    outcome: str  # DirectDebitBankOutcome, or "" for a notice that changes nothing
    text: str


def _scheme_file(data: bytes) -> tuple[DirectDebitKind, str] | None:
    """(kind, what) of an Autogiro or Betalingsservice file from the bank, None for anything else."""
    if betalingsservice.is_betalingsservice(data):
        return DirectDebitKind.BETALINGSSERVICE_DK, "delivery"
    what = autogiro.kind_of_file(data)
    if what in ("mandates", "payments"):
        return DirectDebitKind.AUTOGIRO_SE, what
    return None


def _parse_scheme_file(kind, what, data) -> tuple[list[str], list[_ConsentNotice], list[_ResultNotice]]:
    """(accounts named, consent notices, result notices) of a bank file, or raise FileRejected."""
    try:
        if kind == DirectDebitKind.BETALINGSSERVICE_DK:
            delivery = betalingsservice.parse_delivery(data)
            consents = [
                _ConsentNotice(a.line, a.customer_no, "", a.active, a.agreement_no, f"{a.code} {a.text}")
                for a in delivery.agreements
            ]
            outcome = {
                betalingsservice.PAYMENT_COMPLETED: DirectDebitBankOutcome.APPROVED,
                betalingsservice.PAYMENT_REJECTED: DirectDebitBankOutcome.FAILED,
                betalingsservice.PAYMENT_CANCELLED: DirectDebitBankOutcome.FAILED,
            }
            results = [
                _ResultNotice(
                    p.line, p.reference, p.amount, p.debit_date, outcome.get(p.code, ""), f"{p.code} {p.text}"
                )
                for p in delivery.payments
            ]
            if delivery.payments and not results[0].outcome:
                raise FileRejected(
                    "a collection delivery (transaction code 0280) goes to Nets, it is not read back in",
                    code="not_a_result_file",
                )
            return [], consents, results
        if what == "mandates":
            mandates = autogiro.parse_mandates(data)
            consents = [
                _ConsentNotice(
                    m.line,
                    m.payer_number,
                    m.national_id,
                    m.active,
                    m.payer_number,
                    f"{m.comment_code} {m.text}",
                )
                for m in mandates.mandates
            ]
            return [mandates.bankgiro], consents, []
        payments = autogiro.parse_payment_results(data)
        outcome = {
            autogiro.RESULT_APPROVED: DirectDebitBankOutcome.APPROVED,
            autogiro.RESULT_RENEWED: DirectDebitBankOutcome.RENEWED,
        }
        results = [
            _ResultNotice(
                r.line,
                r.reference,
                r.amount,
                r.debit_date,
                outcome.get(r.result_code, DirectDebitBankOutcome.FAILED),
                f"{r.result_code} {r.text}",
            )
            for r in payments.results
        ]
        return [payments.bankgiro], [], results
    except BankFileError as exc:
        raise AgreementFileRejected(exc.message, code=exc.code, line=exc.line) from exc


def _scheme_ledger(kind: DirectDebitKind, accounts: list[str], company_no: str | None) -> Ledger:
    if not accounts and not company_no:
        raise AgreementFileRejected(
            "a Betalingsservice delivery names no account of ours: give the ledger (--ledger)",
            code="ledger_required",
        )
    if accounts:
        ledger = ledger_for_account(accounts=accounts, company_no=company_no)
    else:
        ledger = Ledger.objects.filter(company_no=company_no).first()
        if ledger is None:
            raise FileRejected(f"no ledger has CompanyNo {company_no}", code="ledger_not_found")
    if _kind_for(ledger) != kind:
        raise AgreementFileRejected(
            f"ledger {ledger.company_no} is in {ledger.country}: {kind.label} is for "
            f"{SCHEMES[kind].currency} ledgers of its own country",
            code="wrong_country",
        )
    return ledger


def _normal_id(value: str) -> str:
    """A Swedish personal or organisation number as its last 10 digits (the century is optional)."""
    digits = _digits_only(value)
    return digits[-10:] if len(digits) == 12 else digits


def _customers_for_notices(ledger, kind, notices: list[_ConsentNotice]) -> dict[int, list[int]]:
    """Customer ids per notice line: Autogiro by the consent's payer number, else the national id;
    Betalingsservice by customer number (leading zeros optional)."""
    consent_kind = CONSENT_BY_KIND[kind]
    by_bank_ref: dict[str, set[int]] = {}
    for customer_id, bank_ref in CustomerConsent.objects.filter(
        ledger=ledger, kind=consent_kind, bank_ref__in=list({n.bank_ref for n in notices if n.bank_ref})
    ).values_list("customer_id", "bank_ref"):
        by_bank_ref.setdefault(bank_ref, set()).add(customer_id)
    found: dict[int, list[int]] = {}
    if kind == DirectDebitKind.AUTOGIRO_SE:
        wanted = {_normal_id(v) for n in notices for v in (n.payer, n.national_id) if v}
        by_id: dict[str, set[int]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT id, regexp_replace(national_id, '[^0-9]', '', 'g') FROM ledger_customer
                    WHERE ledger_id = %s AND national_id <> ''
                      AND right(regexp_replace(national_id, '[^0-9]', '', 'g'), 10) = ANY(%s)""",
                [ledger.id, [w[-10:] for w in wanted]],
            )
            for customer_id, digits in cursor.fetchall():
                by_id.setdefault(_normal_id(digits), set()).add(customer_id)
        for n in notices:
            ids = (
                by_bank_ref.get(n.bank_ref)
                or by_id.get(_normal_id(n.payer))
                or by_id.get(_normal_id(n.national_id))
            )
            found[n.line] = sorted(ids or ())
        return found
    numbers = {n.payer.zfill(width) for n in notices for width in range(len(n.payer), 16)}
    by_no: dict[str, int] = {}
    for customer_id, customer_no in Customer.objects.filter(
        ledger=ledger, customer_no__in=numbers
    ).values_list("id", "customer_no"):
        by_no[customer_no] = customer_id
    for n in notices:
        ids = {by_no[no] for no in (n.payer.zfill(w) for w in range(len(n.payer), 16)) if no in by_no}
        found[n.line] = sorted(ids)
    return found


def _apply_consent_notices(ledger, kind, notices, summary, file_name, booking_date, actor) -> None:
    consent_kind = CONSENT_BY_KIND[kind]
    customers = _customers_for_notices(ledger, kind, notices)
    consents = {
        c.customer_id: c
        for c in CustomerConsent.objects.select_for_update().filter(
            ledger=ledger, kind=consent_kind, customer_id__in={i for ids in customers.values() for i in ids}
        )
    }
    created_by_id, actor_label = _actor_fields(actor)
    now = timezone.now()
    source = f"{kind.label} {file_name}"[:100]
    events: list[CustomerEvent] = []
    for n in notices:
        ids = customers[n.line]
        error = {"line": n.line, "payer": n.payer}
        if not ids:
            summary["errors"].append(
                {
                    **error,
                    "code": "unknown_payer",
                    "message": f"payer {n.payer} is no customer of ledger {ledger.company_no}",
                }
            )
            continue
        if len(ids) > 1:
            summary["errors"].append(
                {**error, "code": "ambiguous_payer", "message": f"payer {n.payer} names {len(ids)} customers"}
            )
            continue
        if n.active is None:
            summary["unchanged"] += 1
            continue
        customer_id = ids[0]
        consent = consents.get(customer_id)
        values = {"consent": consent_kind.value, "bank_ref": n.bank_ref, "bank": n.text}
        if n.active:
            if consent is not None and consent.active and consent.bank_ref == n.bank_ref:
                summary["unchanged"] += 1
                continue
            was_active = consent is not None and consent.active
            if consent is None:
                consent = CustomerConsent(ledger=ledger, customer_id=customer_id, kind=consent_kind)
                consents[customer_id] = consent
            old = {"consent": consent_kind.value, "bank_ref": consent.bank_ref} if was_active else {}
            consent.active, consent.bank_ref, consent.changed_on, consent.source = (
                True,
                n.bank_ref,
                booking_date,
                source,
            )
            consent.save()
            kind_of_event = (
                CustomerEventKind.CONSENT_CHANGED if was_active else CustomerEventKind.CONSENT_ACTIVATED
            )
            summary["changed" if was_active else "activated"] += 1
        else:
            if consent is None or not consent.active:
                summary["unchanged"] += 1
                continue
            old = {"consent": consent_kind.value, "bank_ref": consent.bank_ref}
            consent.active, consent.changed_on, consent.source = False, booking_date, source
            consent.save()
            kind_of_event = CustomerEventKind.CONSENT_CANCELLED
            summary["cancelled"] += 1
        events.append(
            CustomerEvent(
                ledger=ledger,
                customer_id=customer_id,
                kind=kind_of_event,
                booking_date=booking_date,
                old_value=old,
                new_value=values,
                reason=f"{file_name}: {n.text}"[:500],
                created_by_id=created_by_id,
                actor=actor_label,
                created_at=now,
            )
        )
    CustomerEvent.objects.bulk_create(events)


def _apply_result_notices(ledger, kind, results, summary, booking_date, actor) -> None:
    """Failed debits fail their attempt now (with the bank's reason, and the retry rule); approved ones
    wait for their money; renewed ones are noted. A result for no sent attempt is listed as an error."""
    created_by_id, actor_label = _actor_fields(actor)
    by_reference: dict[str, list[DirectDebitAttempt]] = {}
    for a in (
        DirectDebitAttempt.objects.select_for_update(of=("self",))
        .select_related("invoice")
        .filter(ledger=ledger, kind=kind, invoice__payment_ref__in=[r.reference for r in results])
        .order_by("attempt_no")
    ):
        by_reference.setdefault(a.invoice.payment_ref, []).append(a)

    def attempt_for(r: _ResultNotice) -> DirectDebitAttempt | None:
        """The attempt claimed for this debit date, else the one still out (the bank may report a
        renewed debit under its new date), else the last one (a result read again)."""
        candidates = by_reference.get(r.reference, [])
        same_day = [a for a in candidates if a.due_date == r.debit_date]
        out = [a for a in candidates if a.status == DirectDebitStatus.SENT]
        return (same_day or out or candidates or [None])[-1]

    bank = "Bankgirot" if kind == DirectDebitKind.AUTOGIRO_SE else "Nets"
    failed_ids, failed_reasons = [], []
    for r in results:
        attempt = attempt_for(r)
        if attempt is None or attempt.amount != r.amount:
            summary["errors"].append(
                {
                    "line": r.line,
                    "code": "unknown_debit",
                    "message": f"no claim of {r.amount} with reference {r.reference} for {r.debit_date} was sent",
                }
            )
            continue
        reason = f"{bank}: {r.text}"[:200]
        if attempt.status != DirectDebitStatus.SENT or attempt.bank_result == reason:
            summary["unchanged"] += 1  # settled already, or this result was read before
            continue
        if r.outcome == DirectDebitBankOutcome.FAILED:
            failed_ids.append(attempt.id)
            failed_reasons.append(reason)
            continue
        attempt.bank_outcome, attempt.bank_result = r.outcome, reason
        attempt.save(update_fields=["bank_outcome", "bank_result"])
        summary["approved" if r.outcome == DirectDebitBankOutcome.APPROVED else "renewed"] += 1
    if not failed_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _BANK_FAILED_SQL,
            {
                "ledger": ledger.id,
                "as_of": booking_date,
                "now": timezone.now(),
                "sent": DirectDebitStatus.SENT.value,
                "failed": DirectDebitStatus.FAILED.value,
                "bank_failed": DirectDebitBankOutcome.FAILED.value,
                "ids": failed_ids,
                "reasons": failed_reasons,
                "max_attempts": DIRECT_DEBIT_MAX_ATTEMPTS,
                "failed_event": InvoiceEventKind.DIRECT_DEBIT_FAILED.value,
                "exhausted_event": InvoiceEventKind.DIRECT_DEBIT_EXHAUSTED.value,
                "created_by": created_by_id,
                "actor": actor_label,
            },
        )
        rows = cursor.fetchall()
    summary["failed"] += len(rows)
    summary["exhausted"] += sum(1 for _, attempt_no, _, _ in rows if attempt_no >= DIRECT_DEBIT_MAX_ATTEMPTS)


def _scheme_file_import(*, kind, what, data, file_name, digest, company_no, actor, booking_date) -> dict:
    """debit_agreements_import for Autogiro and Betalingsservice files (see there)."""
    created_by_id, actor_label = _actor_fields(actor)
    ledger = None

    def empty() -> dict:
        return {
            **_empty_agreement_summary(file_name, ledger),
            "kind": kind.value,
            "results": 0,
            "approved": 0,
            "renewed": 0,
            "failed": 0,
            "exhausted": 0,
        }

    def record(status: str, summary: dict) -> DebitAgreementFile:
        return DebitAgreementFile.objects.create(
            ledger=ledger,
            kind=kind,
            file_name=file_name[:255],
            digest=digest,
            size=len(data),
            status=status,
            summary=summary,
            created_by_id=created_by_id,
            actor=actor_label,
        )

    try:
        accounts, consents, results = _parse_scheme_file(kind, what, data)
        ledger = _scheme_ledger(kind, accounts, company_no)
    except FileRejected as exc:
        summary = {**empty(), "status": PaymentFileStatus.REJECTED, "errors": [exc.as_dict()]}
        return {**summary, "agreement_file": record(PaymentFileStatus.REJECTED, summary).pk}

    booking_date = booking_date or ledger.today()
    summary = {**empty(), "booking_date": booking_date.isoformat()}
    summary["agreements"], summary["results"] = len(consents), len(results)
    try:
        with transaction.atomic():
            _lock(ledger, _LOCK_AGREEMENTS)
            _lock(ledger, _LOCK_CLAIMS)
            earlier = DebitAgreementFile.objects.filter(
                ledger=ledger, digest=digest, status=PaymentFileStatus.ACCEPTED
            ).first()
            if earlier is not None:
                summary["status"] = PaymentFileStatus.DUPLICATE
                summary["duplicate_of"] = {"agreement_file": earlier.pk, "file": earlier.file_name}
                return {**summary, "agreement_file": record(PaymentFileStatus.DUPLICATE, summary).pk}
            summary["status"] = PaymentFileStatus.ACCEPTED
            if consents:
                _apply_consent_notices(ledger, kind, consents, summary, file_name, booking_date, actor)
            if results:
                _apply_result_notices(ledger, kind, results, summary, booking_date, actor)
            row = record(PaymentFileStatus.ACCEPTED, summary)
    except IntegrityError as exc:
        raise ValidationFailed(
            f"{file_name}: conflicts with a concurrent import: {exc}", code="import_conflict"
        ) from exc
    return {**summary, "agreement_file": row.pk}


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
