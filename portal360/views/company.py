"""Section "Company": the client's details and ledgers, the ledger rules and the claim process (changed
by client administrators within the statutory limits, from a stated date), users, API tokens and the
audit trail of who changed what, and the action log of every request that changed or revealed data."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounting.reports.downloads import csv_chunks
from api.models import ApiToken
from claims.models import ClaimSettings
from claims.selectors import claim_steps
from claims.settings_changes import claim_settings_change, claim_steps_change
from distribution.models import ClientDocumentProfile
from distribution.profile import document_profile_change
from ledger.errors import LedgerError
from ledger.models import AuditEvent, User, UserRole
from ledger.selectors import action_log_for_client
from ledger.settings_changes import ledger_rules_change

from .. import forms
from ..access import context_ledgers
from ..errors import error_text
from ..services import (
    client_token_create,
    client_token_revoke,
    operator_invite,
    operator_second_factor_reset,
    operator_update,
)
from .common import page


def _require_admin(request):
    user = request.user
    if not (user.is_our_staff or (user.client_id and user.role == UserRole.CLIENT_ADMIN)):
        raise PermissionDenied("only client administrators change the company's settings")


def _ctx(request):
    ctx = context_ledgers(request)
    if ctx.client is None:
        raise Http404("no client")
    return ctx


def _is_admin(user) -> bool:
    return user.is_our_staff or (user.client_id is not None and user.role == UserRole.CLIENT_ADMIN)


def company(request):
    ctx = _ctx(request)
    return page(request, "portal360/company/overview.html",
                {"client": ctx.client, "ledgers": ctx.ledgers, "is_admin": _is_admin(request.user), "tab": "overview"},
                section="company")  # fmt: skip


def _rules_forms(ledger, posted=None, *, read_only=False):
    settings = ClaimSettings.objects.filter(ledger=ledger).first() or ClaimSettings(ledger=ledger)
    profile = ClientDocumentProfile.objects.filter(client_id=ledger.client_id).first()
    today = ledger.today()
    built = {
        "ledger": forms.LedgerRulesForm(initial={
            "default_reference_text": ledger.default_reference_text,
            "settle_surplus_against_oldest": ledger.settle_surplus_against_oldest,
            "allocation_order": ledger.allocation_order, "payment_terms_days": ledger.payment_terms_days,
            "max_respite_days": ledger.max_respite_days, "effective_from": today}),
        "claims": forms.ClaimSettingsForm(initial={
            "business_late_fee": settings.business_late_fee, "reminder_fee_agreed": settings.reminder_fee_agreed,
            "unpaid_costs": settings.unpaid_costs, "interest_charged": settings.interest_charged,
            "effective_from": today}),
        "steps": forms.ClaimStepsForm(steps=claim_steps(ledger=ledger), initial={"effective_from": today}),
        "documents": forms.DocumentProfileForm(initial={
            "paper_kinds": profile.paper_kinds if profile else [],
            "retention_years": profile.retention_years if profile else 10}),
    }  # fmt: skip
    if posted:
        built[posted[0]] = posted[1]
    for name, form in built.items():
        form.auto_id = f"id_{name}_%s"  # four forms on one page: each element id once
    if read_only:  # a client user who is not its administrator sees the rules, and cannot change them
        for form in built.values():
            for field in form.fields.values():
                field.disabled = True
    return built


def rules(request, *, posted=None):
    ctx = _ctx(request)
    if ctx.ledger is None:
        raise Http404("no ledger")
    pending = AuditEvent.objects.filter(ledger=ctx.ledger, applied_at__isnull=True).order_by(
        "effective_from", "id"
    )
    return page(request, "portal360/company/rules.html",
                {"ledger": ctx.ledger, "forms": _rules_forms(ctx.ledger, posted, read_only=not _is_admin(request.user)),
                 "pending": list(pending),
                 "is_admin": _is_admin(request.user), "tab": "rules", "open_action": posted[0] if posted else None},
                section="company")  # fmt: skip


@require_POST
def rules_change(request, part: str):
    _require_admin(request)
    ctx = _ctx(request)
    ledger, user = ctx.ledger, request.user
    if ledger is None or part not in ("ledger", "claims", "steps", "documents"):
        raise Http404("no such settings")
    if part == "documents":
        form = forms.DocumentProfileForm(request.POST)
        if form.is_valid():
            try:
                document_profile_change(client=ctx.client, actor=user, **form.cleaned_data)
            except LedgerError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
            else:
                messages.success(request, _("Saved: in effect now."))
                return redirect(reverse("portal360:company_rules"))
        return rules(request, posted=(part, form))
    if part == "steps":
        form = forms.ClaimStepsForm(request.POST, steps=claim_steps(ledger=ledger))
    else:
        form = {"ledger": forms.LedgerRulesForm, "claims": forms.ClaimSettingsForm}[part](request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        effective_from = data.pop("effective_from")
        try:
            if part == "ledger":
                event = ledger_rules_change(
                    ledger=ledger, values=data, effective_from=effective_from, actor=user
                )
            elif part == "claims":
                event = claim_settings_change(
                    ledger=ledger, values=data, effective_from=effective_from, actor=user
                )
            else:
                event = claim_steps_change(ledger=ledger, changes=form.changes(), effective_from=effective_from,
                                           actor=user)  # fmt: skip
        except LedgerError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        else:
            messages.success(request, _("Saved: in effect now.") if event.applied_at else
                             _("Saved: takes effect on %(day)s.") % {"day": event.effective_from})  # fmt: skip
            return redirect(reverse("portal360:company_rules"))
    return rules(request, posted=(part, form))


def users(request, *, invite_form=None):
    ctx = _ctx(request)
    people = User.objects.filter(client=ctx.client).order_by("username")
    return page(request, "portal360/company/users.html",
                {"people": [(p, forms.UserUpdateForm(initial={"role": p.role, "active": p.is_active})) for p in people],
                 "invite": invite_form or forms.InviteForm(), "is_admin": _is_admin(request.user), "tab": "users"},
                section="company")  # fmt: skip


@require_POST
def user_invite(request):
    _require_admin(request)
    ctx = _ctx(request)
    form = forms.InviteForm(request.POST)
    if form.is_valid():

        def link(uid, token):
            path = reverse("portal360:password_reset_confirm", args=[uid, token])
            return request.build_absolute_uri(path)

        try:
            operator_invite(client=ctx.client, actor=request.user, set_password_url=link, **form.cleaned_data)
        except LedgerError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, error_text(exc))
        else:
            messages.success(request, _("Invited: an e-mail with a link to set the password is on its way."))
            return redirect(reverse("portal360:company_users"))
    return users(request, invite_form=form)


def _person(request, user_id: int) -> User:
    person = User.objects.filter(client=_ctx(request).client, pk=user_id).first()
    if person is None:
        raise Http404("no such user")
    return person


@require_POST
def user_update(request, user_id: int):
    _require_admin(request)
    person = _person(request, user_id)
    form = forms.UserUpdateForm(request.POST)
    if form.is_valid():
        try:
            operator_update(user=person, actor=request.user, role=form.cleaned_data["role"],
                            active=form.cleaned_data["active"])  # fmt: skip
            messages.success(request, _("Saved."))
        except LedgerError as exc:
            messages.error(request, error_text(exc))
    return redirect(reverse("portal360:company_users"))


@require_POST
def user_second_factor_reset(request, user_id: int):
    _require_admin(request)
    person = _person(request, user_id)
    operator_second_factor_reset(user=person, actor=request.user)
    messages.success(request, _("The second factor is reset: a new one is set up at the next sign-in."))
    return redirect(reverse("portal360:company_users"))


def tokens(request, *, form=None, secret=None):
    ctx = _ctx(request)
    listed = (
        ApiToken.objects.filter(client=ctx.client)
        .select_related("ledger", "created_by")
        .order_by("-created_at")
    )
    return page(request, "portal360/company/tokens.html",
                {"tokens": listed, "form": form or forms.TokenForm(ledgers=ctx.ledgers), "secret": secret,
                 "is_admin": _is_admin(request.user), "tab": "tokens"},
                section="company")  # fmt: skip


@require_POST
def token_create(request):
    _require_admin(request)
    ctx = _ctx(request)
    form = forms.TokenForm(request.POST, ledgers=ctx.ledgers)
    if form.is_valid():
        ledger = next((item for item in ctx.ledgers if item.company_no == form.cleaned_data["ledger"]), None)
        try:
            token, secret = client_token_create(client=ctx.client, ledger=ledger, actor=request.user,
                                                can_write=form.cleaned_data["can_write"], name=form.cleaned_data["name"])  # fmt: skip
        except LedgerError as exc:
            form.add_error(None, error_text(exc))
        else:
            # Shown once, on this answer only: it is not stored (only its SHA-256).
            response = tokens(request, secret=secret)
            response["Cache-Control"] = "no-store"
            return response
    return tokens(request, form=form)


@require_POST
def token_revoke(request, token_id: int):
    _require_admin(request)
    try:
        client_token_revoke(client=_ctx(request).client, token_id=token_id, actor=request.user)
    except LedgerError as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("Revoked: the token no longer works."))
    return redirect(reverse("portal360:company_tokens"))


def audit(request):
    ctx = _ctx(request)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    events = list(
        AuditEvent.objects.filter(client=ctx.client).select_related("ledger")[
            (number - 1) * 50 : number * 50 + 1
        ]
    )
    return page(request, "portal360/company/audit.html",
                {"events": events[:50], "page_no": number, "has_next": len(events) > 50, "tab": "audit"},
                section="company")  # fmt: skip


ACTIVITY_PAGE = 50
ACTIVITY_COLUMNS = ["id", "created_at", "request_id", "actor", "channel", "kind", "method", "path", "view",
                    "ledger", "target", "params", "status", "ip"]  # fmt: skip


def activity(request):
    """The client's action log, newest first, by key: client administrators (and our staff) only."""
    _require_admin(request)
    ctx = _ctx(request)
    try:
        before = int(request.GET["before"]) if "before" in request.GET else None
    except ValueError:
        before = None
    rows = list(action_log_for_client(client_id=ctx.client.pk, before_id=before)[: ACTIVITY_PAGE + 1])
    return page(request, "portal360/company/activity.html",
                {"rows": rows[:ACTIVITY_PAGE], "next_before": rows[ACTIVITY_PAGE - 1].id if len(rows) > ACTIVITY_PAGE else None,
                 "tab": "activity"},
                section="company")  # fmt: skip


def activity_csv(request):
    """The whole action log of the client as CSV, read in pages by key and streamed (flat memory)."""
    _require_admin(request)
    client_id = _ctx(request).client.pk

    def rows():
        before = None
        while True:
            chunk = list(action_log_for_client(client_id=client_id, before_id=before)[:2000])
            for r in chunk:
                yield [
                    r.id, r.created_at.isoformat(), r.request_id, r.actor, r.channel, r.kind, r.method, r.path,
                    r.view, r.ledger.company_no if r.ledger else "", json.dumps(r.target, ensure_ascii=False),
                    json.dumps(r.params, ensure_ascii=False), r.status, r.ip or "",
                ]  # fmt: skip
            if len(chunk) < 2000:
                return
            before = chunk[-1].id

    response = StreamingHttpResponse(
        csv_chunks(columns=ACTIVITY_COLUMNS, rows=rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="activity.csv"'
    return response
