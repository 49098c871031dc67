"""360 Files: the ledger's outbox with kind and date filters and downloads, the sFTP inbox state; only
the user's own ledgers, and nothing outside the outbox."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.outbox_files import file_date, outbox_kind
from accounting.services import accounting_files_write
from cusin.models import CusinFile, FileStatus
from ledger.outbox import claims_dir, company_dir, sftp_root
from tests.factories import InvoiceFactory
from tests.helpers import sign_in


@pytest.fixture
def outbox(ledger, customer):
    InvoiceFactory(customer=customer, invoice_no="F-2001", amount=Decimal("100.00"),
                   invoice_date=date(2026, 3, 2), booking_date=date(2026, 3, 2))  # fmt: skip
    accounting_files_write(ledger=ledger, as_of=date(2026, 3, 2))
    folder = company_dir(ledger.company_no, "outbox")
    (folder / "CUSIN_7001_20260301083000_1_receipt.xml").write_text("<receipt/>")
    (folder / "CUSIN_7001_20260301083000_2_errorlog.xml").write_text("<CUSINErrorLog/>")
    (folder / "PAYOUT-7001-20260305-9.xml").write_text("<Document/>")
    (folder / ".PAYOUT-7001-20260306-10.xml.tmp").write_text("half written")
    return folder


def files_url(ledger, **query):
    url = reverse("portal360:files", args=[ledger.company_no])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_outbox_kinds_and_days_from_the_names():
    assert outbox_kind("ACCOUNTINGDETAIL_7001_20260302.csv") == "accounting_detail"
    assert outbox_kind("SIE4_7001_20260302_2.si") == "sie4"
    assert outbox_kind("CUSIN_7001_20260301083000_1_receipt.xml") == "cusin_receipt"
    assert outbox_kind("BALANCEREPORT_7001_20260201_20260228.pdf") == "balance_report"
    assert outbox_kind("AVTALEGIRO_7001_20260302_1.txt") == "direct_debit"
    assert outbox_kind("notes.txt") == "other"
    assert file_date("CUSIN_7001_20260301083000_1_receipt.xml") == date(2026, 3, 1)
    assert file_date("PAYOUT-7001-20260305-9.xml") == date(2026, 3, 5)
    assert file_date("notes.txt") is None


def test_the_outbox_lists_filters_and_downloads(client, outbox, ledger, reader):
    sign_in(client, reader)  # read-only users see the files too
    text = client.get(files_url(ledger)).content.decode()
    for name in ("ACCOUNTINGDETAIL_7001_20260302.csv", "ACCOUNTINGDETAIL_7001_20260302.xml",
                 "SIE4_7001_20260302.si", "BILLJOURNAL_7001_20260302.xml",
                 "CUSIN_7001_20260301083000_1_receipt.xml", "PAYOUT-7001-20260305-9.xml"):  # fmt: skip
        assert name in text
    assert ".tmp" not in text
    sie4 = client.get(files_url(ledger, kind="sie4")).content.decode()
    assert "SIE4_7001_20260302.si" in sie4 and "ACCOUNTINGDETAIL_" not in sie4
    march_5 = client.get(files_url(ledger, start="2026-03-05", end="2026-03-31")).content.decode()
    assert "PAYOUT-7001-20260305-9.xml" in march_5 and "SIE4_7001" not in march_5

    response = client.get(
        reverse("portal360:file_download", args=[ledger.company_no, "SIE4_7001_20260302.si"])
    )
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == (outbox / "SIE4_7001_20260302.si").read_bytes()


@pytest.mark.parametrize("name", ["..", "...%2Fsecret", ".PAYOUT-7001-20260306-10.xml.tmp", "missing.xml"])
def test_nothing_but_an_outbox_file_downloads(signed_in, outbox, ledger, name):
    (sftp_root() / "7001" / "secret").write_text("not for download")
    url = reverse("portal360:file_download", args=[ledger.company_no, "x"])[:-1] + name
    assert signed_in.get(url).status_code == 404


def test_another_clients_ledger_is_a_404_for_files_inbox_and_downloads(signed_in, outbox, other_ledger):
    foreign = company_dir(other_ledger.company_no, "outbox") / "SIE4_7002_20260302.si"
    foreign.write_text("theirs")
    assert signed_in.get(files_url(other_ledger)).status_code == 404
    assert signed_in.get(reverse("portal360:files_inbox", args=[other_ledger.company_no])).status_code == 404
    url = reverse("portal360:file_download", args=[other_ledger.company_no, foreign.name])
    assert signed_in.get(url).status_code == 404


def test_files_of_the_chosen_ledger(signed_in, ledger):
    response = signed_in.get(reverse("portal360:files_chosen"))
    assert response.status_code == 302 and response["Location"] == files_url(ledger)


def test_the_inbox_state_waiting_importing_archived_failed_with_its_error_log(signed_in, ledger):
    root = sftp_root() / ledger.company_no
    company_dir(ledger.company_no, "inbox")
    (root / "inbox" / "CUSIN_7001_20260310080000_5.xml").write_text("<CUSIN/>")
    (root / "inbox" / "CUSIN_7001_20260310080000_6.xml.part").write_text("<CUS")
    (claims_dir(ledger.company_no) / "claim-1").mkdir(parents=True)  # claimed: outside the chroot
    (claims_dir(ledger.company_no) / "claim-1" / "CUSIN_7001_20260310070000_4.xml").write_text("<CUSIN/>")
    company_dir(ledger.company_no, "archive").joinpath("CUSIN_7001_20260309070000_3.xml").write_text(
        "<CUSIN/>"
    )
    failed = company_dir(ledger.company_no, "failed") / "CUSIN_7001_20260308070000_2.xml"
    failed.write_text("<broken")
    failed.with_name("CUSIN_7001_20260308070000_2_errorlog.xml").write_text("<CUSINErrorLog/>")
    company_dir(ledger.company_no, "outbox").joinpath("CUSIN_7001_20260308070000_2_errorlog.xml").write_text(
        "<x/>"
    )
    CusinFile.objects.create(ledger=ledger, company_no="7001", file_name=failed.name, digest="0" * 64, size=7,
                             status=FileStatus.REJECTED,
                             receipt={"errors": [{"code": "XmlNotWellFormed", "message": "line 1: broken"}]})  # fmt: skip

    text = signed_in.get(reverse("portal360:files_inbox", args=[ledger.company_no])).content.decode()
    waiting, importing = text.index('id="state-waiting"'), text.index('id="state-importing"')
    archived, failed_at = text.index('id="state-archived"'), text.index('id="state-failed"')
    assert waiting < text.index("CUSIN_7001_20260310080000_5.xml") < importing
    assert "upload in progress" in text[waiting:importing]
    assert importing < text.index("CUSIN_7001_20260310070000_4.xml") < archived
    assert archived < text.index("CUSIN_7001_20260309070000_3.xml") < failed_at
    failed_part = text[failed_at:]
    assert "CUSIN_7001_20260308070000_2.xml" in failed_part and "XmlNotWellFormed" in failed_part
    errorlog = reverse(
        "portal360:file_download", args=[ledger.company_no, "CUSIN_7001_20260308070000_2_errorlog.xml"]
    )
    assert errorlog in failed_part
    assert signed_in.get(errorlog).status_code == 200
