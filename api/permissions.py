from rest_framework import exceptions, permissions

from .models import ApiToken


class TokenScopePermission(permissions.BasePermission):
    """A token is needed for everything; a read-only token may only read."""

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiToken):
            raise exceptions.NotAuthenticated("an API token is required: Authorization: Bearer <token>")
        if request.method not in permissions.SAFE_METHODS and not request.auth.can_write:
            raise exceptions.PermissionDenied(detail="this token is read-only", code="token_read_only")
        return True
