"""Cursor (keyset) pagination: a page is the rows after the last one seen, in a stable order.

The cursor holds the ordering and the last row's (value, id); the next page filters on them, so a
page costs the same wherever it is in the list (no OFFSET), and rows added meanwhile do not shift it.
"""

import base64
import binascii
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_PARAM = "cursor"
LIMIT_PARAM = "limit"
ORDERING_PARAM = "ordering"


@dataclass
class Page:
    items: list
    next_url: str | None


def _invalid(field: str, message: str):
    return serializers.ValidationError({field: [serializers.ErrorDetail(message, code="invalid")]})


def _encode(ordering: str, value, pk: int) -> str:
    raw = json.dumps(
        {"o": ordering, "v": value.isoformat() if hasattr(value, "isoformat") else str(value), "id": pk}
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, ordering: str, model_field):
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, dict) or data.get("o") != ordering or not isinstance(data.get("id"), int):
            raise ValueError("cursor of another list or ordering")
        return model_field.to_python(data["v"]), data["id"]
    except (
        ValueError,
        TypeError,
        KeyError,
        binascii.Error,
        UnicodeDecodeError,
        DjangoValidationError,
    ) as exc:
        raise _invalid(CURSOR_PARAM, "invalid cursor: use the `next` link of the previous page") from exc


def page_limit(request) -> int:
    raw = request.query_params.get(LIMIT_PARAM)
    if raw is None:
        return settings.API_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= settings.API_MAX_PAGE_SIZE:
        raise _invalid(LIMIT_PARAM, f"limit must be a whole number from 1 to {settings.API_MAX_PAGE_SIZE}")
    return int(raw)


def keyset_page(queryset: QuerySet, request, *, orderings: dict[str, str], default: str) -> Page:
    """One page of `queryset`. `orderings` maps what the client may ask for (e.g. "-due_date") to the
    model field it sorts by; ties are broken by id in the same direction."""
    ordering = request.query_params.get(ORDERING_PARAM, default)
    if ordering not in orderings:
        raise _invalid(ORDERING_PARAM, f"ordering must be one of {', '.join(orderings)}")
    field = orderings[ordering]
    descending = ordering.startswith("-")
    limit = page_limit(request)
    qs = queryset.order_by(f"-{field}", "-id") if descending else queryset.order_by(field, "id")
    cursor = request.query_params.get(CURSOR_PARAM)
    if cursor:
        value, last_id = _decode(cursor, ordering, queryset.model._meta.get_field(field))
        # (field, id) after (value, last_id), written so that the first condition is an index range.
        if descending:
            qs = qs.filter(Q(**{f"{field}__lte": value}), Q(**{f"{field}__lt": value}) | Q(id__lt=last_id))
        else:
            qs = qs.filter(Q(**{f"{field}__gte": value}), Q(**{f"{field}__gt": value}) | Q(id__gt=last_id))
    rows = list(qs[: limit + 1])
    next_url = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, CURSOR_PARAM, _encode(ordering, getattr(last, field), last.pk))
    return Page(items=rows, next_url=next_url)


def first_page_url(request) -> str:
    return remove_query_param(request.build_absolute_uri(), CURSOR_PARAM)


def page_parameters(orderings: dict[str, str] | None = None, default: str | None = None) -> list:
    """The query parameters of a paginated list, for the OpenAPI schema."""
    params = [
        OpenApiParameter(CURSOR_PARAM, OpenApiTypes.STR, description="the `next` link's cursor"),
        OpenApiParameter(
            LIMIT_PARAM,
            OpenApiTypes.INT,
            description=f"rows per page, 1 to {settings.API_MAX_PAGE_SIZE} (default {settings.API_PAGE_SIZE})",
        ),
    ]
    if orderings:
        params.append(
            OpenApiParameter(ORDERING_PARAM, OpenApiTypes.STR, enum=list(orderings), default=default)
        )
    return params


def page_serializer(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A serializer class {next, results: [item]} named for the schema."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True, help_text="the next page; null on the last"),
            "results": item(many=True),
        },
    )
