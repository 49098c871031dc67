"""Reads of the API app: the token behind a secret, and the ledgers a token may reach."""

from django.db import connection
from django.db.models import QuerySet

from ledger.errors import NotFound
from ledger.models import Ledger

from .models import ApiToken
from .services import token_hash

# The token lookup runs on every request: plain SQL (the ORM's compile cost was most of it), with the
# columns taken from the models, so the SQL follows them.
_TOKEN_FIELDS = ApiToken._meta.concrete_fields
_LEDGER_FIELDS = Ledger._meta.concrete_fields
_TOKEN_SQL = (
    "SELECT "
    + ", ".join([f"t.{f.column}" for f in _TOKEN_FIELDS] + [f"l.{f.column}" for f in _LEDGER_FIELDS])
    + " FROM api_apitoken t LEFT JOIN ledger_ledger l ON l.id = t.ledger_id"
    " WHERE t.key_hash = %s AND t.revoked_at IS NULL"
)


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret, with its ledger, or None (unknown and revoked look the same)."""
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [token_hash(secret)])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_TOKEN_FIELDS)
    token = ApiToken.from_db("default", [f.attname for f in _TOKEN_FIELDS], row[:split])
    if token.ledger_id is not None:
        token.ledger = Ledger.from_db("default", [f.attname for f in _LEDGER_FIELDS], row[split:])
    return token


def ledgers_for_token(token: ApiToken) -> QuerySet[Ledger]:
    if token.ledger_id is not None:
        return Ledger.objects.filter(pk=token.ledger_id, client_id=token.client_id)
    return Ledger.objects.filter(client_id=token.client_id)


def ledger_for_token(*, token: ApiToken, company_no: str) -> Ledger:
    """The ledger, if the token reaches it; else NotFound, the same as for a ledger that does not exist."""
    if token.ledger_id is not None:  # loaded with the token: no second query
        ledger = token.ledger if token.ledger.company_no == company_no else None
        if ledger is not None and ledger.client_id != token.client_id:
            ledger = None
    else:
        ledger = ledgers_for_token(token).filter(company_no=company_no).first()
    if ledger is None:
        raise NotFound(f"ledger {company_no} not found", code="ledger_not_found")
    return ledger
