"""Who the operator acts for: their client (our staff pick one), its ledgers, the ledger chosen.

Every page reaches data through `url_ledger` or `context_ledgers`: both go through the tenant-scoped
ledger.selectors, so another client's ledger, customer or invoice is a 404 like one that does not exist.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ledger.errors import NotFound
from ledger.models import Client, Ledger, User
from ledger.selectors import ledger_get, ledgers_for_user

SESSION_CLIENT = "portal360_client"
SESSION_LEDGER = "portal360_ledger"


@dataclass(frozen=True)
class Context:
    client: Client | None
    ledgers: list[Ledger]
    ledger: Ledger | None


def acting_client(request) -> Client | None:
    user: User = request.user
    if user.client_id is not None:
        return user.client
    if not user.is_our_staff:
        return None
    chosen = request.session.get(SESSION_CLIENT)
    client = Client.objects.filter(pk=chosen).first() if chosen else None
    return client or Client.objects.order_by("name").first()


def context_ledgers(request) -> Context:
    """The acting client's ledgers (those the user may see) and the one chosen for this session."""
    client = acting_client(request)
    if client is None:
        return Context(client=None, ledgers=[], ledger=None)
    ledgers = list(ledgers_for_user(request.user).filter(client=client).order_by("company_no"))
    chosen = request.session.get(SESSION_LEDGER)
    ledger = next((item for item in ledgers if item.company_no == chosen), ledgers[0] if ledgers else None)
    return Context(client=client, ledgers=ledgers, ledger=ledger)


def url_ledger(request, company_no: str) -> Ledger:
    """The ledger a URL names, if the user may see it; else 404. Our staff follow it to its client."""
    try:
        ledger = ledger_get(company_no=company_no, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.user.is_our_staff:
        request.session[SESSION_CLIENT] = ledger.client_id
    request.session[SESSION_LEDGER] = ledger.company_no
    return ledger


def require_may_act(request) -> None:
    if not request.user.may_act:
        raise PermissionDenied("read-only users cannot change anything")
