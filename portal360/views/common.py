"""What every 360 page shares: the layout's context (client, ledgers, navigation counts) and the way an
action answers (the page again with the service's error in words, or a redirect with a message)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from ledger.errors import LedgerError
from ledger.models import Client

from ..access import Context, context_ledgers
from ..errors import error_text
from ..worklists import worklist_counts

SECTIONS = ("start", "customers", "services", "company", "reports")


def nav_counts(ctx: Context) -> dict:
    """The worklist counts beside "Services" (and on the Services page)."""
    if ctx.ledger is None:
        return {}
    counts = worklist_counts(ledger=ctx.ledger)
    return {**counts, "total": sum(counts.values())}


def page(request, template: str, context: dict, *, section: str, status: int = 200) -> HttpResponse:
    ctx = context_ledgers(request)
    base = {
        "section": section,
        "sections": SECTIONS,
        "acting_client": ctx.client,
        "client_ledgers": ctx.ledgers,
        "current_ledger": context.get("ledger") or ctx.ledger,
        "counts": nav_counts(ctx),
        "clients": list(Client.objects.order_by("name")) if request.user.is_our_staff else [],
        "may_act": request.user.may_act,
    }
    response = render(request, template, {**base, **context}, status=status)
    if request.method == "POST" and request.htmx:
        # A form answered in place (its errors, a token shown once): the address bar keeps the page's URL,
        # so a reload does not post again. A redirect after a POST still moves it.
        response["HX-Push-Url"] = "false"
    return response


def acted(request, error: LedgerError | None, *, success: str, to: str, form=None) -> HttpResponse | None:
    """After a service call: None (the caller shows the form again with `form` errors) or a redirect."""
    if error is not None:
        if form is not None:
            form.add_error(error.field if error.field in form.fields else None, error_text(error))
        return None
    messages.success(request, success)
    return redirect(to)
