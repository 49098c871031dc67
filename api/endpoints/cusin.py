"""CUSIN upload over the REST API: the same import as sFTP files, answered with the receipt as JSON."""

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.exceptions import ApiProblem
from api.views import LedgerApiView
from cusin.models import FileStatus
from cusin.services import FILE_NAME, cusin_import
from ledger.errors import ValidationFailed


class ReceiptErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    customer_no = serializers.CharField()
    invoice_no = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)


class ReceiptOutput(serializers.Serializer):
    """The receipt (and error log) the import writes to the outbox, as JSON."""

    file = serializers.CharField()
    company_no = serializers.CharField()
    status = serializers.ChoiceField(choices=FileStatus.choices)
    passed_xsd_validation = serializers.BooleanField()
    distribution_date = serializers.CharField(allow_null=True)
    customers = serializers.IntegerField()
    invoices = serializers.IntegerField()
    failed_customers = serializers.IntegerField()
    failed_invoices = serializers.IntegerField()
    credits = serializers.IntegerField()
    failed_credits = serializers.IntegerField()
    total_invoice_amount = serializers.CharField()
    currency = serializers.CharField(allow_null=True)
    processed_at = serializers.CharField()
    errors = ReceiptErrorOutput(many=True)


class CusinUploadView(LedgerApiView):
    parser_classes = [MultiPartParser]

    def max_upload_bytes(self) -> int:
        return settings.CUSIN_MAX_FILE_BYTES

    class Input(serializers.Serializer):
        file = serializers.FileField(
            help_text="a CUSIN XML file named CUSIN_<CompanyNo>_<YYYYMMDDhhmmss>_<Serial>.xml"
        )

        class Meta:
            ref_name = "CusinUploadInput"

    @extend_schema(
        operation_id="cusin_upload",
        request={"multipart/form-data": Input},
        responses={200: ReceiptOutput},
        description="Imports the file as if it came by sFTP. Accepted and partially accepted files answer "
        "200 with the receipt (rejected records listed in `errors`); a file rejected whole is a 422 "
        "problem with the receipt in `receipt` and its error log in `errors`. The same file again "
        "books nothing and returns the same receipt.",
    )
    def post(self, request, *args, **kwargs):
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request, company_no):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        match = FILE_NAME.match(upload.name or "")
        if match is None or match["company_no"] != self.ledger.company_no:
            raise ValidationFailed(
                f"the file must be named CUSIN_{self.ledger.company_no}_<YYYYMMDDhhmmss>_<Serial>.xml, "
                f"got {upload.name!r}",
                code="invalid_file_name",
                field="file",
            )
        receipt = _import_upload(upload, actor=self.actor)
        if receipt["status"] == FileStatus.REJECTED:
            raise ApiProblem(
                status=422,
                code="file_rejected",
                detail=f"{upload.name} was rejected: "
                + "; ".join(e["message"] for e in receipt["errors"][:3]),
                receipt=ReceiptOutput(receipt).data,
                errors=[
                    {"field": "file", "code": e["code"], "message": e["message"], "line": e["line"]}
                    for e in receipt["errors"]
                ],
            )
        return Response(ReceiptOutput(receipt).data)


def _import_upload(upload, *, actor: str) -> dict:
    """Write the upload under its own name in a private folder and import it from there."""
    uploads = Path(settings.LEDGER_DATA_DIR) / "api-uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=uploads))
    try:
        target = folder / Path(upload.name).name
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return cusin_import(path=target, actor=actor, source="api")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


urlpatterns = [
    path("ledgers/<str:company_no>/cusin-files/", CusinUploadView.as_view(), name="api-cusin-upload"),
]
