"""REST API of the ledger core, under /api/v1/ledgers/<company_no>/ (see payex_ledger/urls.py).

Views are thin: they validate input with their nested Input serializer, call services and selectors,
and answer with an Output serializer. The ledger comes from the URL through the token's scope
(api/views.py), so a token never reaches another client's data.
"""

from django.urls import path

from api.endpoints.customers import (
    CustomerConsentsView,
    CustomerCreateView,
    CustomerCreditView,
    CustomerDetailView,
    CustomerInvoicesView,
)
from api.endpoints.files import FileDownloadView, FileListView
from api.endpoints.invoice_actions import (
    InvoiceCreditView,
    InvoiceDisputeCloseView,
    InvoiceDisputeOpenView,
    InvoiceRespiteClearView,
    InvoiceRespiteView,
    InvoiceWriteOffView,
)
from api.endpoints.invoices import (
    InvoiceBatchView,
    InvoiceByExternalIdView,
    InvoiceDetailView,
    InvoiceEventsView,
    InvoiceListView,
)
from api.endpoints.payments import PaymentAllocateView, PaymentDetailView, PaymentListView

LEDGER = "ledgers/<str:company_no>/"
# An invoice number may hold a slash ("2026/0001", as CUSIN allows): it is matched as a path, and the
# routes below it come first, so that ".../2026/0001/events/" is the events of invoice 2026/0001. A
# client may send the slash as it is or as %2F (the server decodes both alike). A number whose last part
# is one of those routes' names ("2026/events") reaches the route: the list's ?invoice_no= finds any number.
INVOICE = LEDGER + "invoices/<path:invoice_no>/"
CUSTOMER = LEDGER + "customers/<str:customer_no>/"

urlpatterns = [
    path(LEDGER + "invoices/", InvoiceListView.as_view(), name="api-invoices"),
    path(LEDGER + "invoice-batches/", InvoiceBatchView.as_view(), name="api-invoice-batches"),
    path(
        LEDGER + "invoices-by-external-id/<str:external_id>/",
        InvoiceByExternalIdView.as_view(),
        name="api-invoice-by-external-id",
    ),
    path(INVOICE + "events/", InvoiceEventsView.as_view(), name="api-invoice-events"),
    path(INVOICE + "respite/", InvoiceRespiteView.as_view(), name="api-invoice-respite"),
    path(INVOICE + "respite/clear/", InvoiceRespiteClearView.as_view(), name="api-invoice-respite-clear"),
    path(INVOICE + "dispute/", InvoiceDisputeOpenView.as_view(), name="api-invoice-dispute"),
    path(INVOICE + "dispute/close/", InvoiceDisputeCloseView.as_view(), name="api-invoice-dispute-close"),
    path(INVOICE + "credit/", InvoiceCreditView.as_view(), name="api-invoice-credit"),
    path(INVOICE + "write-off/", InvoiceWriteOffView.as_view(), name="api-invoice-write-off"),
    path(LEDGER + "customers/", CustomerCreateView.as_view(), name="api-customers"),
    path(CUSTOMER, CustomerDetailView.as_view(), name="api-customer"),
    path(CUSTOMER + "consents/", CustomerConsentsView.as_view(), name="api-customer-consents"),
    path(CUSTOMER + "invoices/", CustomerInvoicesView.as_view(), name="api-customer-invoices"),
    path(CUSTOMER + "credit-balance/", CustomerCreditView.as_view(), name="api-customer-credit"),
    path(LEDGER + "payments/", PaymentListView.as_view(), name="api-payments"),
    path(LEDGER + "payments/<int:payment_id>/", PaymentDetailView.as_view(), name="api-payment"),
    path(
        LEDGER + "payments/<int:payment_id>/allocate/",
        PaymentAllocateView.as_view(),
        name="api-payment-allocate",
    ),
    path(LEDGER + "files/", FileListView.as_view(), name="api-files"),
    path(LEDGER + "files/<str:name>/", FileDownloadView.as_view(), name="api-file"),
]

# The invoice's own route matches any path below it: it goes after every app's routes below an invoice
# (payex_ledger/urls.py puts it last).
invoice_urlpatterns = [path(INVOICE, InvoiceDetailView.as_view(), name="api-invoice")]
