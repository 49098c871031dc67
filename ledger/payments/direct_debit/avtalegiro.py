"""AvtaleGiro (Norway, Nets): agreement files in, payment-claim transmissions out (with netsgiro)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import netsgiro
from django.db import IntegrityError, transaction
from django.utils import timezone
from netsgiro import records as ng_records

from ledger import references
from ledger.errors import FileRejected, ValidationFailed
from ledger.models import (
    ConsentKind,
    Country,
    Customer,
    CustomerConsent,
    CustomerEvent,
    CustomerEventKind,
    DebitAgreementFile,
    DirectDebitKind,
    Invoice,
    Ledger,
    PaymentFileStatus,
    User,
)
from ledger.payments.bankfiles.model import nul_byte_line
from ledger.payments.direct_debit.common import (
    _DATE_ERRORS,
    _LOCK_AGREEMENTS,
    _RECORD_CLASSES,
    BANK_ACTOR,
    ENCODING,
    MAX_FILE_BYTES,
    NETS_RECIPIENT,
    RECORD_LENGTH,
    AgreementFileRejected,
    _account_digits,
    _agreement_file_record,
    _bank_notification,
    _check_claims_file,
    _Claim,
    _customer_no_variants,
    _empty_agreement_summary,
    _latin1,
    _lock,
    _nets_id,
    _validate_kid,
    kid_customer_no,
)
from ledger.payments.direct_debit.scheme_files import _scheme_file, _scheme_file_import
from ledger.selectors import ledger_for_account
from ledger.services.common import _actor_fields

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
    nul_line = nul_byte_line(data)
    if nul_line is not None:
        raise AgreementFileRejected("the file holds a NUL byte (0x00): a bank file is text", code="malformed",
                                    line=nul_line)  # fmt: skip
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
        record_type = netsgiro.RecordType(int(line[6:8])) if line[6:8].isascii() and line[6:8].isdigit() else None
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
        return _agreement_file_record(
            ledger=ledger, kind=DirectDebitKind.AVTALEGIRO_NO, file_name=file_name, data=data, digest=digest,
            status=status, summary=summary, created_by_id=created_by_id, actor_label=actor_label,
        )  # fmt: skip

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
