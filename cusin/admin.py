from django.contrib import admin

from ledger.admin import ReadOnlyAdmin

from .models import CusinFile


@admin.register(CusinFile)
class CusinFileAdmin(ReadOnlyAdmin):
    list_display = (
        "file_name",
        "company_no",
        "status",
        "passed_xsd_validation",
        "received_at",
        "finished_at",
    )
    list_filter = ("ledger", "status")
    search_fields = ("file_name",)
