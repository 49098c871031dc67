"""The base of every API view: the ledger from the URL, reached only through the token's scope."""

from functools import cached_property

from rest_framework.views import APIView

from ledger.models import Ledger

from .exceptions import ApiProblem
from .idempotency import idempotent
from .models import ApiToken
from .selectors import ledger_for_token

MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and headers around the file


class LedgerApiView(APIView):
    """A view under /api/v1/ledgers/<company_no>/. A view that takes POSTs defines `post` as
    `return self.idempotent_post(request, *args, **kwargs)` and does the work in `create`."""

    @property
    def token(self) -> ApiToken:
        return self.request.auth

    @property
    def actor(self) -> str:
        return self.token.actor_label

    @cached_property
    def ledger(self) -> Ledger:
        return ledger_for_token(token=self.token, company_no=self.kwargs["company_no"])

    # An upload view's limit on the request body, in bytes (None: Django's own limits): a larger request is
    # refused by its Content-Length, before its body is read.
    def max_upload_bytes(self) -> int | None:
        return None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # token, scope, rate limit
        self.ledger  # noqa: B018 - the ledger before anything else: another client's is a 404 first
        limit = self.max_upload_bytes()
        if limit is None:
            return
        length = request.META.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            raise ApiProblem(status=411, code="length_required",
                             detail="an upload needs its Content-Length, so that a too large one is refused first")  # fmt: skip
        if int(length) > limit + MULTIPART_OVERHEAD:
            raise ApiProblem(status=413, code="upload_too_large",
                             detail=f"the request has {length} bytes; a file here may have at most {limit}")  # fmt: skip

    def create(self, request, *args, **kwargs):
        raise NotImplementedError

    def idempotent_post(self, request, *args, **kwargs):
        return idempotent(self, request, lambda: self.create(request, *args, **kwargs))
