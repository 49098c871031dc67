from django.urls import path, re_path

from .views import pages, provider, signup

app_name = "invoiceportal"

# The fixed routes first: a token is 43 characters of [A-Za-z0-9_-], never one of these words.
urlpatterns = [
    path("", pages.no_link, name="no-link"),
    path("direct-debit/<str:company_no>/", signup.direct_debit, name="direct-debit"),
    path("direct-debit/s/<str:state>/identified/", signup.dd_identified, name="dd-identified"),
    path("direct-debit/s/<str:state>/confirm/", signup.dd_confirm, name="dd-confirm"),
    path("direct-debit/s/<str:state>/done/", signup.dd_done, name="dd-done"),
    path("test-provider/pay/<str:provider_ref>/", provider.test_provider_page, name="test-provider"),
    path("test-provider/bankid/<str:state>/", signup.test_bankid, name="test-bankid"),
    path("<str:token>/", pages.link_page, name="link"),
    path("<str:token>/invoices/<int:invoice_id>/", pages.invoice_page, name="invoice"),
    path("<str:token>/documents/<int:document_id>/pdf/", pages.document_pdf, name="document-pdf"),
    path("<str:token>/dispute/", pages.dispute, name="dispute"),
    path("<str:token>/respite/", pages.respite, name="respite"),
    path("<str:token>/contact/", pages.contact, name="contact"),
    path("<str:token>/pay/", pages.pay, name="pay"),
    path("<str:token>/paid/<str:provider_ref>/", pages.paid, name="paid"),
    # Anything else under /p/ (a link cut or pasted wrong) gets the same friendly page.
    re_path(r"^.*$", pages.no_link),
]
