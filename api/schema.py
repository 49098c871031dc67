"""OpenAPI: every operation documents its problem+json errors, every POST its Idempotency-Key."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .exceptions import PROBLEM_CONTENT_TYPE
from .idempotency import HEADER

READ_ERRORS = ("400", "401", "404", "406", "429")
WRITE_ERRORS = ("403", "409", "415", "422")


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="e.g. `amount` or `invoices[2].due_date`")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details; `code` is stable, `detail` is for people. May carry more members."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)


class ApiAutoSchema(AutoSchema):
    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    HEADER,
                    OpenApiTypes.STR,
                    location=OpenApiParameter.HEADER,
                    description="Makes the POST safe to retry: the same key and body return the first "
                    "response; the same key with another body is a 409.",
                )
            )
        return params

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = READ_ERRORS + (WRITE_ERRORS if self.method not in ("GET", "HEAD", "OPTIONS") else ("409",))
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `manage.py create_api_token --ledger COMPANY_NO [--write]`.",
        }
