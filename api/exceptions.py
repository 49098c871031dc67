"""Every API error as `application/problem+json` (RFC 9457) with a stable `code`.

Business errors come from ledger/errors.py with their own codes; validation errors name the field.
"""

import logging
from http import HTTPStatus

from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from ledger.errors import InvalidTransition, LedgerError, NotFound, ValidationFailed

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)

# The HTTP status of each kind of business error.
LEDGER_ERROR_STATUS = (
    (NotFound, 404),
    (InvalidTransition, 409),
    (ValidationFailed, 422),
    (LedgerError, 422),
)

# Stable codes for DRF's own exceptions.
DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "invalid_token",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "malformed_request",
    exceptions.Throttled: "rate_limited",
    exceptions.ValidationError: "validation_failed",
}


class ApiProblem(exceptions.APIException):
    """A problem a view reports itself, with its status, code and any extra members."""

    def __init__(self, *, status: int, code: str, detail: str, **extra):
        super().__init__(detail=detail, code=code)
        self.status_code = status
        self.problem_code = code
        self.extra = extra


def problem(*, status: int, code: str, detail: str, errors: list | None = None, **extra) -> dict:
    body = {
        "type": f"urn:ledger-api:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error dict/list into [{field, code, message}] with paths like invoices[2].amount."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):  # a list's errors by index
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out += _flatten(value, name)
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [
                {"field": prefix or None, "code": getattr(item, "code", "invalid"), "message": str(item)}
                for item in detail
            ]
        out = []
        for index, item in enumerate(detail):
            out += _flatten(item, f"{prefix}[{index}]")
        return out
    return [{"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def _response(body: dict, headers: dict | None = None) -> Response:
    response = Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, LedgerError):
        status = next(code for cls, code in LEDGER_ERROR_STATUS if isinstance(exc, cls))
        errors = [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else None
        extra = {"line": exc.line} if getattr(exc, "line", None) is not None else {}
        return _response(problem(status=status, code=exc.code, detail=exc.message, errors=errors, **extra))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, ApiProblem):
        return _response(
            problem(status=exc.status_code, code=exc.problem_code, detail=str(exc.detail), **exc.extra)
        )
    response = exception_handler(exc, context)  # DRF's: sets WWW-Authenticate, Retry-After, Allow
    if response is None:
        # A real bug. It is logged with its traceback, the request's writes are rolled back, and the
        # integrator still gets a problem document, never an HTML page (whatever DEBUG says).
        request = context.get("request")
        logger.error("API %s %s failed", getattr(request, "method", "?"), getattr(request, "path", "?"),
                     exc_info=(type(exc), exc, exc.__traceback__))  # fmt: skip
        set_rollback()
        return _response(problem(status=500, code="internal_error",
                                 detail="the request failed on our side; it has been logged and nothing was saved"))  # fmt: skip
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        body = problem(status=response.status_code, code=code, detail=detail, errors=errors)
    else:
        detail_code = getattr(exc.detail, "code", None)
        if isinstance(exc, exceptions.PermissionDenied) and detail_code not in (None, "permission_denied"):
            code = detail_code
        body = problem(status=response.status_code, code=code, detail=str(exc.detail))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(response.headers.get("Retry-After", "1"))
    headers = {k: v for k, v in response.headers.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return _response(body, headers)


@csrf_exempt  # a token's POST to a path that matches nothing: the 404, not Django's HTML CSRF page
def unknown_endpoint(request, *args, **kwargs):
    """Every /api/ path no route matches: a problem+json 404 rather than Django's HTML page."""
    from django.http import JsonResponse

    hint = "" if request.path.endswith("/") else "; API paths end with a slash"
    body = problem(status=404, code="unknown_endpoint", detail=f"no API endpoint {request.path}{hint}")
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def server_error(request, *args, **kwargs):
    """Django's 500 handler: problem+json under /api/, the product's own 500 page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import server_error as html_server_error

    if request.path.startswith("/api/"):
        body = problem(status=500, code="internal_error",
                       detail="the request failed on our side; it has been logged and nothing was saved")  # fmt: skip
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return html_server_error(request, *args, **kwargs)
