"""What every 360 page shares: the layout's context (client, ledgers, navigation counts) and the way an
action answers (the page again with the service's error in words, or a redirect with a message)."""

import re

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from ledger.errors import LedgerError
from ledger.models import Client

from ..access import Context, context_ledgers, require_may_act
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


def run_action(request, form, call, *, success: str, to: str) -> HttpResponse | None:
    """An action's POST: check the user may act, validate `form` (None: an action without fields), call
    the service with its cleaned data; a redirect to `to` with `success`, or None when the caller shows
    the page again with the form's errors (an action without a form gets its error as a message)."""
    require_may_act(request)
    if form is not None and not form.is_valid():
        return None
    try:
        call(form.cleaned_data if form is not None else {})
    except LedgerError as exc:
        if form is None:
            messages.error(request, error_text(exc))
            return redirect(to)
        form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        return None
    messages.success(request, success)
    return redirect(to)


def with_posted(action_forms: dict, posted: tuple | None) -> tuple[dict, str | None]:
    """The page's action forms, the one just posted (with its errors) in its place and open. Each form's
    element ids carry its name (id_credit_reason, id_respite_reason): one page, many forms, no id twice."""
    name = None
    if posted is not None:
        name, form = posted
        action_forms = {**action_forms, name: form}
    for form_name, form in action_forms.items():
        if form is not None:  # an action without input (a button only)
            form.auto_id = f"id_{form_name}_%s"
    return action_forms, name


def pdf_response(request, pdf: bytes, name: str) -> HttpResponse:
    """An archived PDF, opened in the browser, or downloaded with ?download=1."""
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    safe = re.sub(r"[^\w.-]+", "-", name)  # invoice numbers may hold "/" and the like
    response["Content-Disposition"] = f'{disposition}; filename="{safe}.pdf"'
    return response
