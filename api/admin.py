from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only here: tokens are created with create_api_token (the secret is shown only then)."""

    list_display = ("prefix", "name", "client", "ledger", "can_write", "created_at", "revoked_at")
    list_filter = ("can_write", "client")
    readonly_fields = [f.name for f in ApiToken._meta.fields]

    def has_add_permission(self, request):
        return False
