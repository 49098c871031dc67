"""Company: ledger rules and the claim process changed by client administrators from a stated date,
within the statutory limits; users; API tokens; every change in the audit trail."""

import re
from datetime import date

import pytest
import time_machine
from django.core import mail

from api.models import ApiToken
from businessday.daily import business_day_run
from claims.models import ClaimSettings, ClaimStep
from claims.services.process import claim_process_install
from ledger.models import AuditEvent, Ledger, User, UserRole
from tests.helpers import sign_in
from tests.portal360.conftest import make_user

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY):
        yield


@pytest.fixture
def admin(client, ledger):
    user = make_user(ledger, UserRole.CLIENT_ADMIN, username="anna", first_name="Anna", last_name="Admin")
    sign_in(client, user)
    return client


def admin_page(ledger) -> str:
    from django.test import Client

    admin = Client()
    sign_in(admin, make_user(ledger, UserRole.CLIENT_ADMIN, username="adam"))
    page = admin.get("/360/company/rules/").content.decode()
    assert " disabled" not in page
    return page


RULES = {"default_reference_text": "Takk!", "allocation_order": "capital_first", "payment_terms_days": "20",
         "max_respite_days": "90"}


def test_a_rule_change_today_takes_effect_at_once_and_is_audited(admin, ledger):
    answer = admin.post("/360/company/rules/ledger/", {**RULES, "effective_from": "2026-03-02"})
    assert answer.status_code == 302
    ledger.refresh_from_db()
    assert (ledger.payment_terms_days, ledger.default_reference_text) == (20, "Takk!")
    event = AuditEvent.objects.get(kind="ledger_rules")
    assert (
        event.actor == "anna"
        and event.before["payment_terms_days"] == 14
        and event.after["payment_terms_days"] == 20
    )
    assert "anna" in admin.get("/360/company/audit/").content.decode()


def test_a_later_change_waits_for_its_business_day(admin, ledger):
    admin.post("/360/company/rules/ledger/", {**RULES, "effective_from": "2026-03-10"})
    ledger.refresh_from_db()
    assert ledger.payment_terms_days == 14
    assert "Changes waiting for their date" in admin.get("/360/company/rules/").content.decode()
    business_day_run(as_of=date(2026, 3, 9), company_nos=[ledger.company_no], parts=["settings"])
    assert Ledger.objects.get(pk=ledger.pk).payment_terms_days == 14
    summary = business_day_run(as_of=date(2026, 3, 10), company_nos=[ledger.company_no], parts=["settings"])
    assert summary["ledgers"][0]["settings"] == {"ledger_rules": 1, "claim_process": 0}
    assert Ledger.objects.get(pk=ledger.pk).payment_terms_days == 20
    assert AuditEvent.objects.get(kind="ledger_rules").applied_at is not None


def test_a_change_in_the_past_is_refused(admin, ledger):
    answer = admin.post("/360/company/rules/ledger/", {**RULES, "effective_from": "2026-03-01"})
    assert answer.status_code == 200 and "not in the past" in answer.content.decode()
    admin.post("/360/language/", {"language": "nb", "next": "/360/"})
    norwegian = admin.post("/360/company/rules/ledger/", {**RULES, "effective_from": "2026-03-01"})
    assert "En endring gjelder fra i dag eller senere, ikke tilbake i tid." in norwegian.content.decode()
    assert not AuditEvent.objects.exists()


def test_claim_settings_and_steps_within_the_statutory_limits(admin, ledger):
    admin.post("/360/company/rules/claims/", {"business_late_fee": "on", "unpaid_costs": "keep_chasing",
                                              "effective_from": "2026-03-02"})  # fmt: skip
    settings = ClaimSettings.objects.get(ledger=ledger)
    assert settings.business_late_fee and settings.unpaid_costs == "keep_chasing"

    steps = claim_process_install(ledger=ledger)
    notice = next(s for s in steps if s.kind == "collection_notice")
    form = {"effective_from": "2026-03-02"}
    for s in steps:
        form.update({f"offset_days_{s.position}": s.offset_days, f"deadline_days_{s.position}": s.deadline_days,
                     f"min_open_amount_{s.position}": s.min_open_amount})  # fmt: skip
        if s.fee_rule == "fixed":
            form[f"fixed_fee_{s.position}"] = s.fixed_fee
    # A notice with a fee must give at least 14 days in Norway: refused, nothing changes.
    refused = admin.post("/360/company/rules/steps/", {**form, f"deadline_days_{notice.position}": 10})
    assert refused.status_code == 200 and "at least" in refused.content.decode()
    assert (
        ClaimStep.objects.get(ledger=ledger, position=notice.position).deadline_days == notice.deadline_days
    )
    admin.post(
        "/360/company/rules/steps/", {**form, f"offset_days_{notice.position}": notice.offset_days + 2}
    )
    assert (
        ClaimStep.objects.get(ledger=ledger, position=notice.position).offset_days == notice.offset_days + 2
    )
    event = AuditEvent.objects.get(kind="claim_steps")
    assert event.after == {str(notice.position): {"offset_days": notice.offset_days + 2}}


def test_operators_and_readers_may_look_but_not_change(signed_in, client, reader, ledger):
    page = signed_in.get("/360/company/rules/").content.decode()
    assert 'name="payment_terms_days" value="14" min="0" max="365" disabled' in page.replace(' required', '')
    assert ">Save</button>" not in page
    assert 'aria-label="Step 1: Days"' in page  # each claim-step input says what it is
    assert ">Save</button>" in admin_page(ledger)
    assert (
        signed_in.post("/360/company/rules/ledger/", {**RULES, "effective_from": "2026-03-02"}).status_code
        == 403
    )
    assert (
        signed_in.post(
            "/360/company/users/invite/", {"username": "x", "email": "x@x.no", "role": "operator"}
        ).status_code
        == 403
    )
    assert signed_in.post("/360/company/tokens/new/", {"ledger": "", "name": "x"}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_invite_a_user_who_sets_a_password_from_the_email(admin, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post("/360/company/users/invite/",
                            {"username": "nils", "email": "nils@example.no", "role": "read_only"})  # fmt: skip
    assert answer.status_code == 302
    nils = User.objects.get(username="nils")
    assert (nils.client_id, nils.role, nils.has_usable_password()) == (ledger.client_id, "read_only", False)
    link = re.search(r"http://testserver(/360/password-reset/\S+/)", mail.outbox[0].body).group(1)
    from django.test import Client

    browser = Client()
    form = browser.get(link, follow=True)
    browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "nils long secret 1", "new_password2": "nils long secret 1"},
    )
    nils.refresh_from_db()
    assert nils.check_password("nils long secret 1")
    assert AuditEvent.objects.get(kind="user", action="invite").target == "nils"
    taken = admin.post(
        "/360/company/users/invite/", {"username": "NILS", "email": "n@example.no", "role": "operator"}
    )
    assert "is taken" in taken.content.decode()


def test_role_deactivate_and_second_factor_reset(admin, ledger, operator, other_ledger):
    admin.post(f"/360/company/users/{operator.pk}/", {"role": "read_only"})  # active unticked: deactivated
    operator.refresh_from_db()
    assert (operator.role, operator.is_active) == ("read_only", False)
    anna = User.objects.get(username="anna")
    page = admin.post(f"/360/company/users/{anna.pk}/", {"role": "client_admin"}, follow=True)
    assert "cannot change your own role" in page.content.decode()
    assert User.objects.get(username="anna").is_active
    from django_otp.plugins.otp_email.models import EmailDevice

    EmailDevice.objects.create(user=operator, name="email")
    admin.post(f"/360/company/users/{operator.pk}/second-factor/")
    assert not EmailDevice.objects.filter(user=operator).exists()
    stranger = make_user(other_ledger, username="sven")
    assert (
        admin.post(f"/360/company/users/{stranger.pk}/", {"role": "operator", "active": "on"}).status_code
        == 404
    )
    assert "sven" not in admin.get("/360/company/users/").content.decode()


def test_a_token_is_shown_once_works_against_the_api_and_can_be_revoked(admin, ledger, invoice, client):
    answer = admin.post(
        "/360/company/tokens/new/", {"ledger": ledger.company_no, "can_write": "", "name": "ERP"}
    )
    secret = re.search(r'<code id="new-token">(plt_[^<]+)</code>', answer.content.decode()).group(1)
    assert answer["Cache-Control"] == "no-store"
    assert secret not in admin.get("/360/company/tokens/").content.decode()
    api = client.__class__()
    got = api.get(
        f"/api/v1/ledgers/{ledger.company_no}/invoices/F-1001/", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert got.status_code == 200
    token = ApiToken.objects.get()
    assert token.last_used_at is not None and not token.can_write and token.ledger_id == ledger.pk
    admin.post(f"/360/company/tokens/{token.pk}/revoke/")
    assert api.get(f"/api/v1/ledgers/{ledger.company_no}/invoices/F-1001/",
                   HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401  # fmt: skip
    assert [e.action for e in AuditEvent.objects.filter(kind="api_token").order_by("id")] == [
        "create",
        "revoke",
    ]


def test_a_client_wide_token_is_created_for_every_ledger_of_the_client(admin, ledger, invoice, client):
    page = admin.get("/360/company/tokens/").content.decode()
    assert '<select name="ledger" id="id_ledger">' in page  # not `required`: "every ledger" is a choice
    answer = admin.post("/360/company/tokens/new/", {"ledger": "", "can_write": "on", "name": "ERP"})
    secret = re.search(r'<code id="new-token">(plt_[^<]+)</code>', answer.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert (token.ledger_id, token.client_id, token.can_write) == (None, ledger.client_id, True)
    got = client.__class__().get(
        f"/api/v1/ledgers/{ledger.company_no}/invoices/F-1001/", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert got.status_code == 200


def test_distribution_overrides_are_audited(admin, ledger):
    from distribution.models import ClientDocumentProfile

    admin.post(
        "/360/company/rules/documents/", {"paper_kinds": ["reminder", "debt_summary"], "retention_years": "7"}
    )
    profile = ClientDocumentProfile.objects.get(client=ledger.client)
    assert (sorted(profile.paper_kinds), profile.retention_years) == (["debt_summary", "reminder"], 7)
    event = AuditEvent.objects.get(kind="document_profile")
    assert event.after["retention_years"] == 7 and event.actor == "anna"
    refused = admin.post(
        "/360/company/rules/documents/", {"paper_kinds": ["nonsense"], "retention_years": "7"}
    )
    assert refused.status_code == 200 and AuditEvent.objects.filter(kind="document_profile").count() == 1
