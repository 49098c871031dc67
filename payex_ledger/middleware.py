"""The request id and the action log, for every face (360, the API, the portal, the admin).

The request id is the caller's X-Request-ID when it is a sane token (a proxy's or an integrator's, so
both sides' logs meet), else a new one; it is answered in X-Request-ID, carried by every log line
(payex_ledger.logs) and kept on the action log's row. After the answer, a request that changed data (any
method but GET, HEAD, OPTIONS), or revealed it (an API read, a download, or a view that says so by
setting `request.audit_reveal`), is appended to the action log (ledger.services.action_log), refused
ones included: a refused attempt is what an audit looks for."""

import json
import logging
import re
import uuid

from django.http import QueryDict

from ledger.models import ActionKind, Ledger
from ledger.services.action_log import Action, action_log_record, mask_fields
from payex_ledger.logs import request_id_var

logger = logging.getLogger(__name__)
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CHANNELS = {"portal360": "360", "invoiceportal": "portal", "admin": "admin"}


class ActionLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        reset = request_id_var.set(request.request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            kind = self._kind(request, response)
            if kind is not None:
                try:
                    action_log_record(action=self._action(request, response, kind))
                except Exception:  # the answer stands; the failure is logged with the request id
                    logger.exception("the action log could not be written")
            return response
        finally:
            request_id_var.reset(reset)

    @staticmethod
    def _kind(request, response) -> str | None:
        match = getattr(request, "resolver_match", None)
        if match is None:
            return None  # no route: nothing was acted on
        if request.method not in SAFE_METHODS:
            return ActionKind.CHANGE
        if request.method == "GET" and (
            getattr(request, "audit_reveal", False)
            or request.path.startswith("/api/v1/")
            or "attachment" in response.get("Content-Disposition", "")
        ):
            return ActionKind.REVEAL
        return None

    @staticmethod
    def _action(request, response, kind) -> Action:
        match = request.resolver_match
        namespace = match.namespaces[0] if match.namespaces else ""
        channel = "api" if request.path.startswith("/api/") else CHANNELS.get(namespace, "other")
        user = getattr(request, "user", None)
        user_id = client_id = None
        actor = ""
        token = getattr(request, "audit_token", None)  # set by api.authentication
        if token is not None:
            actor, client_id = f"token {token.prefix}", token.client_id
        elif user is not None and user.is_authenticated:
            actor, user_id, client_id = user.get_username(), user.pk, user.client_id
        elif getattr(request, "audit_actor", ""):  # set by the portal for a customer's link
            actor = request.audit_actor
        ledger_id = getattr(request, "audit_ledger_id", None)
        company_no = match.kwargs.get("company_no")
        if ledger_id is None and company_no:
            ledger_id, ledger_client = Ledger.objects.filter(company_no=company_no).values_list(
                "id", "client_id"
            ).first() or (None, None)
            if client_id is not None and ledger_client != client_id:
                ledger_id = None  # another client's ledger, refused: the row stays the actor's client's
            client_id = client_id or ledger_client
        elif ledger_id is not None and client_id is None:
            client_id = Ledger.objects.filter(pk=ledger_id).values_list("client_id", flat=True).first()
        fields = QueryDict(mutable=True)
        fields.update(request.GET)
        # Only what the view has read: reading a body here would undo the upload size checks.
        if request.method not in SAFE_METHODS and hasattr(request, "_post"):
            fields.update(request._post)
            for name, upload in getattr(request, "_files", {}).items():
                fields.appendlist(name, f"file {upload.name} ({upload.size} bytes)")
        api_request = getattr(request, "audit_api_request", None)  # DRF's, holding the parsed JSON body
        if (
            request.method not in SAFE_METHODS
            and api_request is not None
            and hasattr(api_request, "_full_data")
        ):
            data = api_request._full_data
            if isinstance(data, dict):
                for name, value in data.items():
                    if name not in fields:
                        fields.appendlist(
                            name, value if isinstance(value, str) else json.dumps(value, default=str)
                        )
        return Action(
            request_id=request.request_id, channel=channel, kind=kind, method=request.method,
            path=request.path, status=response.status_code, view=match.view_name or "", actor=actor,
            user_id=user_id, client_id=client_id, ledger_id=ledger_id, target=dict(match.kwargs),
            params=mask_fields(dict(fields.lists())), ip=request.META.get("REMOTE_ADDR") or None,
        )  # fmt: skip
