from django.urls import path, re_path

from . import views

app_name = "invoiceportal"

# The fixed routes first: a token is 43 characters of [A-Za-z0-9_-], never one of these words.
urlpatterns = [
    path("", views.no_link, name="no-link"),
    path("direct-debit/<str:company_no>/", views.direct_debit, name="direct-debit"),
    path("direct-debit/s/<str:state>/identified/", views.dd_identified, name="dd-identified"),
    path("direct-debit/s/<str:state>/confirm/", views.dd_confirm, name="dd-confirm"),
    path("direct-debit/s/<str:state>/done/", views.dd_done, name="dd-done"),
    path("test-provider/pay/<str:provider_ref>/", views.test_provider_page, name="test-provider"),
    path("test-provider/bankid/<str:state>/", views.test_bankid, name="test-bankid"),
    path("<str:token>/", views.link_page, name="link"),
    path("<str:token>/invoices/<int:invoice_id>/", views.invoice_page, name="invoice"),
    path("<str:token>/documents/<int:document_id>/pdf/", views.document_pdf, name="document-pdf"),
    path("<str:token>/dispute/", views.dispute, name="dispute"),
    path("<str:token>/respite/", views.respite, name="respite"),
    path("<str:token>/contact/", views.contact, name="contact"),
    path("<str:token>/pay/", views.pay, name="pay"),
    path("<str:token>/paid/<str:provider_ref>/", views.paid, name="paid"),
    # Anything else under /p/ (a link cut or pasted wrong) gets the same friendly page.
    re_path(r"^.*$", views.no_link),
]
