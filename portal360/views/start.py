"""Start: news from us and today's figures of the chosen ledger; the client and ledger switches; the
sections part 2 fills (Company, Reports) say what they will hold."""

from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ledger.models import Client
from ledger.selectors import ledgers_for_user

from ..access import SESSION_CLIENT, SESSION_LEDGER, context_ledgers
from ..forms import InvoiceFilterForm
from ..selectors import invoice_list, news_for, start_figures
from .common import page


def root(request):
    """`/`: the 360 start page for a signed-in operator, the sign-in page for anyone else."""
    return redirect("portal360:start" if request.user.is_authenticated else "portal360:login")


def start(request):
    ctx = context_ledgers(request)
    figures = start_figures(ledger=ctx.ledger) if ctx.ledger else None
    return page(
        request,
        "portal360/start.html",
        {"figures": figures, "news": news_for(client=ctx.client), "ledger": ctx.ledger},
        section="start",
    )


@require_POST
def choose_ledger(request):
    company_no = request.POST.get("ledger", "")
    ledger = ledgers_for_user(request.user).filter(company_no=company_no).first()
    if ledger is None:
        raise Http404("no such ledger")
    if request.user.is_our_staff:
        request.session[SESSION_CLIENT] = ledger.client_id
    request.session[SESSION_LEDGER] = ledger.company_no
    return redirect(request.POST.get("next") or "portal360:start")


@require_POST
def choose_client(request):
    """Our own staff work for one client at a time."""
    if not request.user.is_our_staff:
        raise Http404("only our own staff switch clients")
    client = Client.objects.filter(pk=request.POST.get("client") or 0).first()
    if client is None:
        raise Http404("no such client")
    request.session[SESSION_CLIENT] = client.pk
    request.session.pop(SESSION_LEDGER, None)
    return redirect("portal360:start")


def services(request):
    """Ledger information: the invoices and claims of the chosen ledger, by status and claim level."""
    ctx = context_ledgers(request)
    form = InvoiceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    listing = (
        invoice_list(ledger=ctx.ledger, status=filters.get("status") or "", level=filters.get("level") or "",
                     page=filters.get("page") or 1)
        if ctx.ledger else None
    )  # fmt: skip
    query = {k: v for k, v in filters.items() if v and k != "page"}
    template = (
        "portal360/_invoice_list.html"
        if request.htmx and not request.htmx.boosted
        else "portal360/services.html"
    )
    return page(request, template, {"ledger": ctx.ledger, "form": form, "listing": listing, "query": query},
                section="services")  # fmt: skip


def reports(request):
    return page(request, "portal360/coming.html", {"part": "reports"}, section="reports")
