from django.apps import AppConfig


class InvoicePortalConfig(AppConfig):
    name = "invoiceportal"
