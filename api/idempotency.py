"""Idempotency-Key for POSTs: the same key and body replays the first response; another body is a 409.

The key is stored with the response in the same transaction as the business write, so a crash
leaves neither; a second request with the same key waits on the key's row until the first commits.
"""

import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .exceptions import ApiProblem
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
PENDING = 0  # status_code of a key whose first request is still running


def request_digest(request) -> str:
    """SHA-256 of method, path and the parsed body (so JSON whitespace and multipart boundaries don't count)."""
    sha = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form or multipart upload
        fields = {name: values for name, values in data.lists() if name not in request.FILES}
        sha.update(json.dumps(fields, sort_keys=True, default=str).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                sha.update(f"\n{name}:{upload.name}:".encode())
                for chunk in upload.chunks():
                    sha.update(chunk)
                upload.seek(0)
    else:
        sha.update(json.dumps(data, sort_keys=True, default=str).encode())
    return sha.hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise ApiProblem(
            status=409,
            code="idempotency_key_reused",
            detail=f"{HEADER} {record.key!r} was used for another request (other body or endpoint)",
        )
    if record.status_code == PENDING:
        raise ApiProblem(
            status=409,
            code="idempotency_key_in_use",
            detail=f"a request with {HEADER} {record.key!r} is still being processed",
        )
    response = Response(record.body, status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view, request, handler) -> Response:
    """Run `handler()` (which returns a Response) at most once per token and Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ApiProblem(
            status=400, code="invalid_idempotency_key", detail=f"{HEADER} must be 1-255 printable characters"
        )
    token = request.auth
    digest = request_digest(request)
    existing = IdempotencyRecord.objects.filter(token=token, key=key).first()
    if existing is not None:
        return _replay(existing, digest)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    token=token, key=key, request_hash=digest, status_code=PENDING, content_type="", body=None
                )
        except IntegrityError:
            # Another request with this key committed first (we waited for it): answer as it did.
            return _replay(IdempotencyRecord.objects.get(token=token, key=key), digest)
        try:
            response = handler()
        except Exception as exc:
            response = view.handle_exception(exc)  # re-raises what is not an API error (a 500)
        if response.status_code >= 500:
            raise RuntimeError(f"not storing a {response.status_code} for {HEADER} {key!r}")
        record.status_code = response.status_code
        record.content_type = response.content_type or "application/json"
        record.body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
        record.save(update_fields=["status_code", "content_type", "body"])
    return response
