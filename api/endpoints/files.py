"""The ledger's outbox files: list and download (never anything outside the outbox)."""

import mimetypes
from datetime import UTC, datetime

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.exceptions import ApiProblem
from api.negotiation import DownloadNegotiation
from api.pagination import CURSOR_PARAM, page_limit, page_parameters, page_serializer
from api.views import LedgerApiView
from ledger.outbox import SAFE_FILE_NAME, company_dir, outbox_file

# --- Outbox files -------------------------------------------------------------------------------


class FileListView(LedgerApiView):
    class Output(serializers.Serializer):
        name = serializers.CharField()
        size = serializers.IntegerField()
        modified_at = serializers.DateTimeField()
        url = serializers.URLField()

        class Meta:
            ref_name = "OutboxFile"

    @extend_schema(
        operation_id="files_list",
        parameters=page_parameters(),
        responses={200: page_serializer("OutboxFilePage", Output)},
    )
    def get(self, request, company_no):
        outbox = company_dir(self.ledger.company_no, "outbox")
        after = request.query_params.get(CURSOR_PARAM, "")
        limit = page_limit(request)
        names = sorted(
            p.name
            for p in outbox.iterdir()
            if p.is_file() and SAFE_FILE_NAME.match(p.name) and p.name > after
        )
        rows = []
        for name in names[:limit]:
            stat = (outbox / name).stat()
            rows.append(
                {
                    "name": name,
                    "size": stat.st_size,
                    "modified_at": datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    "url": request.build_absolute_uri(f"{request.path}{name}/"),
                }
            )
        next_url = None
        if len(names) > limit:
            next_url = replace_query_param(request.build_absolute_uri(), CURSOR_PARAM, names[limit - 1])
        return Response({"next": next_url, "results": self.Output(rows, many=True).data})


# The content types outbox files are served with (by their extension); anything else is octet-stream.
DOWNLOAD_TYPES = ("application/xml", "text/plain", "text/csv", "application/json", "application/pdf")


class FileDownloadView(LedgerApiView):
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        operation_id="files_download",
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY)
            for media_type in (*DOWNLOAD_TYPES, "application/octet-stream")
        },
    )
    def get(self, request, company_no, name):
        path = outbox_file(self.ledger.company_no, name)
        if path is None:
            raise ApiProblem(status=404, code="file_not_found", detail=f"no file {name!r} in the outbox")
        content_type = mimetypes.guess_type(path.name)[0]
        if content_type not in DOWNLOAD_TYPES:
            content_type = "application/octet-stream"
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type
        )
