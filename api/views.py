"""The base of every API view: the ledger from the URL, reached only through the token's scope."""

from functools import cached_property

from rest_framework.views import APIView

from ledger.models import Ledger

from .idempotency import idempotent
from .models import ApiToken
from .selectors import ledger_for_token


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

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # token, scope, rate limit
        self.ledger  # noqa: B018 - the ledger before anything else: another client's is a 404 first

    def create(self, request, *args, **kwargs):
        raise NotImplementedError

    def idempotent_post(self, request, *args, **kwargs):
        return idempotent(self, request, lambda: self.create(request, *args, **kwargs))
