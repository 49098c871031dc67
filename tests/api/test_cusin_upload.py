"""CUSIN upload: the receipt as JSON; a rejected file is a 422 with its error log; the file must be
for the token's ledger; the same file again books nothing."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.models import CusinFile
from ledger.models import Invoice
from ledger.outbox import company_dir

from .conftest import assert_problem, url


def cusin_bytes(tmp_path: Path, company_no: str = "7777", serial: int = 1) -> tuple[str, bytes]:
    name = f"CUSIN_{company_no}_20260115083000_{serial}.xml"
    path = write_cusin(
        tmp_path / name,
        company_no=company_no,
        customers=[
            CustomerSpec(
                customer_no="6001",
                name="Ola Nordmann",
                street="Storgata 1",
                zip_code="0155",
                city="Oslo",
                items=[
                    InvoiceSpec(
                        invoice_no="C-1",
                        invoice_date=date(2026, 1, 15),
                        amount_excl_vat=Decimal("800.00"),
                        vat_amount=Decimal("200.00"),
                        currency="NOK",
                    )
                ],
            )
        ],
    )
    return name, path.read_bytes()


def upload(api, ledger, name, content, **headers):
    return api.post(
        url(ledger, "cusin-files/"),
        {"file": SimpleUploadedFile(name, content, content_type="application/xml")},
        format="multipart",
        headers=headers or None,
    )


def test_upload_books_the_file_and_returns_the_receipt(ledger, api, tmp_path):
    name, content = cusin_bytes(tmp_path)
    response = upload(api, ledger, name, content)
    assert response.status_code == 200, response.content
    receipt = response.json()
    assert receipt["status"] == "accepted" and receipt["invoices"] == 1 and receipt["customers"] == 1
    assert receipt["total_invoice_amount"] == "1000.00" and receipt["errors"] == []
    assert Invoice.objects.get(ledger=ledger, invoice_no="C-1").amount == Decimal("1000.00")
    assert CusinFile.objects.get(file_name=name).source == "api"
    assert any(p.name.startswith("CUSIN_RECEIPT") or "receipt" in p.name.lower()
               for p in company_dir(ledger.company_no, "outbox").iterdir())  # fmt: skip
    again = upload(api, ledger, name, content)
    assert again.status_code == 200 and again.json()["invoices"] == 1
    assert Invoice.objects.filter(ledger=ledger).count() == 1


def test_a_rejected_file_is_422_with_the_error_log_and_books_nothing(ledger, api):
    name = "CUSIN_7777_20260115083000_5.xml"
    response = upload(api, ledger, name, b"<?xml version='1.0'?><CUSIN><Broken></CUSIN>")
    body = assert_problem(response, 422, "file_rejected")
    assert body["receipt"]["status"] == "rejected" and body["receipt"]["file"] == name
    assert body["errors"] and all(e["field"] == "file" and e["code"] for e in body["errors"])
    assert not Invoice.objects.filter(ledger=ledger).exists()


def test_the_file_must_be_for_this_ledger_and_present(ledger, other_ledger, api, tmp_path):
    name, content = cusin_bytes(tmp_path, company_no=other_ledger.company_no)
    assert_problem(upload(api, ledger, name, content), 422, "invalid_file_name", "file")
    assert_problem(upload(api, ledger, "invoices.xml", content), 422, "invalid_file_name", "file")
    response = api.post(url(ledger, "cusin-files/"), {}, format="multipart")
    assert_problem(response, 400, "validation_failed", "file")
    response = api.post(url(ledger, "cusin-files/"), {"file": "x"}, format="json")
    assert_problem(response, 415, "unsupported_media_type")
    assert not Invoice.objects.exists() and not CusinFile.objects.exists()


def test_upload_with_an_idempotency_key(ledger, api, tmp_path):
    name, content = cusin_bytes(tmp_path)
    first = upload(api, ledger, name, content, **{"Idempotency-Key": "u-1"})
    again = upload(api, ledger, name, content, **{"Idempotency-Key": "u-1"})
    assert first.status_code == again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = content.replace(b"Ola Nordmann", b"Kari Nordmann")
    assert other != content
    assert_problem(
        upload(api, ledger, name, other, **{"Idempotency-Key": "u-1"}), 409, "idempotency_key_reused"
    )


def test_an_upload_over_the_limit_is_refused_by_its_length_before_it_is_read(api, ledger, settings, tmp_path):
    """413 by the Content-Length alone: the body is never parsed, nothing lands in the upload folder."""
    import io

    settings.LEDGER_DATA_DIR = tmp_path
    settings.CUSIN_MAX_FILE_BYTES = 1024
    upload = io.BytesIO(b"<CUSIN>" + b" " * 200_000 + b"</CUSIN>")
    upload.name = f"CUSIN_{ledger.company_no}_20260115083000_1.xml"
    answer = api.post(f"/api/v1/ledgers/{ledger.company_no}/cusin-files/", {"file": upload}, format="multipart")
    problem = assert_problem(answer, 413, "upload_too_large")
    assert "at most 1024" in problem["detail"]
    assert not (tmp_path / "api-uploads").exists() or not any((tmp_path / "api-uploads").iterdir())
