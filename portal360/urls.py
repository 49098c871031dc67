from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.i18n import set_language

from .oidc import FederationCallbackView, FederationStartView
from .views import auth, company, customers, dashboard, files, invoices, reports, start, worklists

app_name = "portal360"

_reset = {"template_name": "portal360/auth/password_reset.html",
          "email_template_name": "portal360/email/password_reset.txt",
          "subject_template_name": "portal360/email/password_reset_subject.txt",
          "success_url": reverse_lazy("portal360:password_reset_done")}  # fmt: skip

urlpatterns = [
    path("", start.start, name="start"),
    path("login/", auth.login, name="login"),
    path("login/code/", auth.login_code, name="login_code"),
    path("logout/", auth.logout, name="logout"),
    path("language/", set_language, name="set_language"),
    path("sso/callback/", FederationCallbackView.as_view(), name="oidc_callback"),
    path("sso/<slug:slug>/", FederationStartView.as_view(), name="oidc_start"),
    path("password-reset/", auth_views.PasswordResetView.as_view(**_reset), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal360/auth/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal360/auth/password_reset_confirm.html",
            success_url=reverse_lazy("portal360:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal360/auth/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("ledger/", start.choose_ledger, name="choose_ledger"),
    path("client/", start.choose_client, name="choose_client"),
    path("customers/", customers.search, name="search"),
    path("services/", start.services, name="services"),
    # Worklists
    path("worklists/<slug:kind>/", worklists.worklist, name="worklist"),
    path("worklists/<slug:kind>/<int:item_id>/", worklists.worklist_item_page, name="worklist_item"),
    path("worklists/<slug:kind>/<int:item_id>/take/", worklists.worklist_take_view, name="worklist_take"),
    path(
        "worklists/<slug:kind>/<int:item_id>/release/",
        worklists.worklist_release_view,
        name="worklist_release",
    ),
    path("worklists/<slug:kind>/<int:item_id>/<slug:action>/", worklists.worklist_act, name="worklist_act"),
    # Company
    path("company/", company.company, name="company"),
    path("company/rules/", company.rules, name="company_rules"),
    path("company/rules/<slug:part>/", company.rules_change, name="company_rules_change"),
    path("company/users/", company.users, name="company_users"),
    path("company/users/invite/", company.user_invite, name="company_user_invite"),
    path("company/users/<int:user_id>/", company.user_update, name="company_user_update"),
    path(
        "company/users/<int:user_id>/second-factor/",
        company.user_second_factor_reset,
        name="company_user_2fa",
    ),
    path("company/tokens/", company.tokens, name="company_tokens"),
    path("company/tokens/new/", company.token_create, name="company_token_create"),
    path("company/tokens/<int:token_id>/revoke/", company.token_revoke, name="company_token_revoke"),
    path("company/audit/", company.audit, name="company_audit"),
    path("company/activity/", company.activity, name="company_activity"),
    path("company/activity.csv", company.activity_csv, name="company_activity_csv"),
    # Dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("l/<str:company_no>/customers/<path:customer_no>/", customers.customer_detail, name="customer"),
    path(
        "l/<str:company_no>/customer-action/<slug:action>/<path:customer_no>/",
        customers.customer_action,
        name="customer_action",
    ),
    path(
        "l/<str:company_no>/customer-document/<int:document_id>/<path:customer_no>/",
        customers.customer_document,
        name="customer_document",
    ),
    path("l/<str:company_no>/invoices/<path:invoice_no>/", invoices.invoice_detail, name="invoice"),
    path(
        "l/<str:company_no>/invoice-action/<slug:action>/<path:invoice_no>/",
        invoices.invoice_action,
        name="invoice_action",
    ),
    path(
        "l/<str:company_no>/invoice-document/<int:document_id>/<path:invoice_no>/",
        invoices.invoice_document,
        name="invoice_document",
    ),
    # Reports and files
    path("reports/", reports.index, name="reports"),
    path("files/", files.chosen, name="files_chosen"),
    path("l/<str:company_no>/reports/<slug:name>/", reports.report, name="report"),
    path(
        "l/<str:company_no>/reports/<slug:name>/download.<str:fmt>",
        reports.download,
        name="report_download",
    ),
    path("l/<str:company_no>/files/", files.outbox, name="files"),
    path("l/<str:company_no>/files/inbox/", files.inbox, name="files_inbox"),
    path("l/<str:company_no>/files/outbox/<str:name>", files.download, name="file_download"),
]
