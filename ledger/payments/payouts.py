"""Sending payouts: the ledger's pending payouts as one ISO 20022 pain.001.001.03 credit-transfer file.

`payouts_send` claims the pending payouts with one conditional UPDATE (so two workers never send the
same payout twice), records the batch, builds the CustomerCreditTransferInitiation, validates it
against xsd/pain.001.001.03.xsd and writes it, fsynced, under a hidden name in the ledger's outbox
(`.<file>.pending`, which the bank does not fetch; ledger.services.outbox_files), all in one database
transaction: if anything fails, every payout stays pending and the hidden file goes. Only after the
commit is the file put under its real name. So a worker killed at any point never leaves a file the
bank can fetch for payouts the ledger still holds pending (money sent twice), nor a committed batch
whose file never appears (money never sent): the next `payouts_send` publishes it first; a hidden file
of a transaction that never committed is overwritten by the next run's (docs/reliability.md).
"""

import functools
import zoneinfo
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from lxml import etree
from lxml.builder import ElementMaker

from ledger.bank_accounts import Kind, bank_account_parse
from ledger.errors import LedgerError, ValidationFailed
from ledger.models import JournalTransaction, Ledger, Payout, PayoutBatch, PayoutStatus, User
from ledger.money import ZERO, to_money
from ledger.outbox import company_dir
from ledger.services.common import _actor_fields
from ledger.services.outbox_files import outbox_file_write, outbox_files_publish

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
XSD_PATH = Path(settings.BASE_DIR) / "xsd" / "pain.001.001.03.xsd"
MAX_ID = 35  # Max35Text: MsgId, PmtInfId, EndToEndId
MAX_TEXT = 140  # Max140Text: names and unstructured remittance information
MAX_ACCOUNT = 34  # Max34Text: Othr/Id of an account
NOT_PROVIDED = "NOTPROVIDED"  # the agent's id when we know no BIC

E = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})


class PayoutFileError(LedgerError):
    code = "payout_file_error"


@functools.cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def payouts_send(*, ledger: Ledger, as_of: date, actor: User | str | None) -> dict:
    """Send the ledger's pending payouts booked on or before `as_of` in one pain.001 file, executed on
    `as_of`. Returns {"ok": True, "payouts": 0} and writes nothing when there is nothing to send (after
    publishing the file of any batch an earlier run committed but could not publish)."""
    published = outbox_files_publish(ledger=ledger)  # what a run killed after its commit left hidden
    recovered = {"published": published} if published else {}
    batch = _batch_write(ledger=ledger, as_of=as_of, actor=actor)
    if batch is None:
        return {"ok": True, "payouts": 0, **recovered}
    outbox_files_publish(ledger=ledger)
    return {
        "ok": True,
        "ledger": ledger.company_no,
        "file": batch.file_name,
        "message_id": batch.message_id,
        "payouts": batch.count,
        "total": batch.total,
        "currency": batch.currency,
        **recovered,
    }


def _batch_write(*, ledger: Ledger, as_of: date, actor: User | str | None) -> PayoutBatch | None:
    """The transaction: claim, record the batch, write its file under the hidden name."""
    written: list[Path] = []
    try:
        with transaction.atomic():
            claimed = _claim(ledger, as_of)
            if not claimed:
                return None
            debtor_account = client_funds_account(ledger)
            payouts = list(
                Payout.objects.filter(id__in=claimed)
                .select_related("ledger", "customer", "payment")
                .order_by("id")
            )
            currencies = {p.currency for p in payouts}
            if currencies != {ledger.currency}:
                raise ValidationFailed(
                    f"ledger {ledger.company_no}: payouts in {sorted(currencies)}, the ledger is in {ledger.currency}",
                    code="currency_mismatch",
                )
            total = sum((to_money(p.amount) for p in payouts), ZERO)
            batch_id = _next_batch_id()
            message_id = _message_id(ledger, as_of, batch_id)
            created_by_id, actor_label = _actor_fields(actor)
            batch = PayoutBatch.objects.create(
                id=batch_id,
                ledger=ledger,
                file_name=f"{message_id}.xml",
                message_id=message_id,
                execution_date=as_of,
                count=len(payouts),
                total=total,
                currency=ledger.currency,
                created_by_id=created_by_id,
                actor=actor_label,
            )
            Payout.objects.filter(id__in=claimed).update(batch=batch)

            content = pain001(ledger=ledger, batch=batch, payouts=payouts, debtor_account=debtor_account)
            path = company_dir(ledger.company_no, "outbox") / batch.file_name
            outbox_file_write(ledger=ledger, path=path, content=content, written=written)
    except BaseException:
        # Only the commit can fail after the write: the payouts are pending again, so the file must go.
        for hidden in written:
            hidden.unlink(missing_ok=True)
        raise
    return batch


def _claim(ledger: Ledger, as_of: date) -> list[int]:
    """Mark the ledger's pending payouts (booked on or before as_of) sent; the ids this worker got.

    One conditional UPDATE: a concurrent worker blocks on the same rows and, once this transaction
    commits, finds them no longer pending, so it claims none of them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Payout._meta.db_table} AS po SET status = %s
                  FROM {JournalTransaction._meta.db_table} AS t
                 WHERE t.id = po.transaction_id AND po.ledger_id = %s AND po.status = %s
                   AND t.booking_date <= %s
             RETURNING po.id""",
            [PayoutStatus.SENT, ledger.id, PayoutStatus.PENDING, as_of],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _next_batch_id() -> int:
    """The batch's id before it is inserted, so that its message id and file name are final at once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [f'"{PayoutBatch._meta.db_table}"']
        )
        return cursor.fetchone()[0]


def _message_id(ledger: Ledger, as_of: date, batch_id: int) -> str:
    """PAYOUT-<company_no>-<YYYYMMDD>-<batch id>; unique because the batch id is. Shortened to
    PAYOUT-<YYYYMMDD>-<batch id> when a long company number would pass the 35 characters of MsgId."""
    message_id = f"PAYOUT-{ledger.company_no}-{as_of:%Y%m%d}-{batch_id}"
    return message_id if len(message_id) <= MAX_ID else f"PAYOUT-{as_of:%Y%m%d}-{batch_id}"


# --- the pain.001.001.03 document -----------------------------------------------------------------


def pain001(
    *, ledger: Ledger, batch: PayoutBatch, payouts: list[Payout], debtor_account: etree._Element
) -> bytes:
    """The CustomerCreditTransferInitiation for the batch, validated against the official schema."""
    count, control_sum = str(len(payouts)), _amount(batch.total)
    created = timezone.localtime(batch.created_at, zoneinfo.ZoneInfo(ledger.time_zone))
    document = E.Document(
        E.CstmrCdtTrfInitn(
            E.GrpHdr(
                E.MsgId(batch.message_id),
                E.CreDtTm(created.replace(microsecond=0).isoformat()),
                E.NbOfTxs(count),
                E.CtrlSum(control_sum),
                _party(ledger.client.name, tag="InitgPty"),
            ),
            E.PmtInf(
                E.PmtInfId(batch.message_id),
                E.PmtMtd("TRF"),
                E.NbOfTxs(count),
                E.CtrlSum(control_sum),
                E.ReqdExctnDt(batch.execution_date.isoformat()),
                _party(ledger.name, tag="Dbtr"),
                E.DbtrAcct(debtor_account),
                E.DbtrAgt(E.FinInstnId(E.Othr(E.Id(NOT_PROVIDED)))),
                *(_transfer(p) for p in payouts),
            ),
        )
    )
    content = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    _validate(content)
    return content


def _transfer(payout: Payout) -> etree._Element:
    name = payout.customer.name if payout.customer else (payout.payment.payer_name if payout.payment else "")
    children = [
        E.PmtId(E.EndToEndId(f"PAYOUT-{payout.id}")),
        E.Amt(E.InstdAmt(_amount(payout.amount), Ccy=payout.currency)),
    ]
    creditor = _party(name, tag="Cdtr")
    if len(creditor):
        children.append(creditor)
    children.append(
        E.CdtrAcct(
            _account(
                payout.bank_account, country=payout.ledger.country, what=f"payout {payout.id} bank account"
            )
        )
    )
    remittance = _text(payout.reason)
    if remittance:
        children.append(E.RmtInf(E.Ustrd(remittance)))
    return E.CdtTrfTxInf(*children)


def _party(name: str, *, tag: str) -> etree._Element:
    """A PartyIdentification32 with just the name (left out when there is none)."""
    party = E(tag)
    if text := _text(name):
        party.append(E.Nm(text))
    return party


def client_funds_account(ledger: Ledger) -> etree._Element:
    """The ledger's client-funds account, which money leaves from (a Swedish ledger's is its bankgiro)."""
    return _account(ledger.client_funds_account, country=ledger.country, bare_giro=Kind.SE_BANKGIRO,
                    what=f"ledger {ledger.company_no} client-funds account")  # fmt: skip


def _account(value: str, *, country: str, what: str, bare_giro: str | None = None) -> etree._Element:
    """A CashAccount16 Id: the IBAN when the account is one, a bankgiro number under its proprietary
    scheme, else Othr/Id with scheme BBAN. The account is checked again here (ledger.bank_accounts), so a
    number that fails its check digits never reaches a bank file, whoever stored it."""
    account = bank_account_parse(value, country=country, what=what, bare_giro=bare_giro)
    if account.kind == Kind.IBAN:
        return E.Id(E.IBAN(account.digits))
    if account.kind == Kind.SE_BANKGIRO:
        return E.Id(E.Othr(E.Id(account.digits), E.SchmeNm(E.Prtry("BGNR"))))
    return E.Id(E.Othr(E.Id(account.digits[:MAX_ACCOUNT]), E.SchmeNm(E.Cd("BBAN"))))


def _amount(value: Decimal) -> str:
    return f"{to_money(value):.2f}"


def _text(value: str) -> str:
    """Whitespace collapsed, cut to the 140 characters of Max140Text."""
    return " ".join((value or "").split())[:MAX_TEXT].rstrip()


def _validate(content: bytes) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    document = etree.fromstring(content, parser).getroottree()
    xsd = schema()
    if not xsd.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(xsd.error_log)[:5])
        raise PayoutFileError(f"the pain.001 file fails its schema: {errors}", code="payout_file_invalid")
