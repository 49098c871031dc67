"""Outbox files: listed and downloaded; nothing outside the ledger's outbox is reachable."""

from ledger.outbox import company_dir, sftp_root, write_atomic

from .conftest import assert_problem, url


def test_list_and_download_outbox_files(ledger, read_api):
    outbox = company_dir(ledger.company_no, "outbox")
    for n in range(3):
        write_atomic(outbox / f"receipt_{n}.xml", f"<Receipt n='{n}'/>".encode())
    (outbox / ".receipt_9.xml.tmp").write_bytes(b"half written")
    body = read_api.get(url(ledger, "files/?limit=2")).json()
    assert [f["name"] for f in body["results"]] == ["receipt_0.xml", "receipt_1.xml"]
    assert body["results"][0]["size"] == len(b"<Receipt n='0'/>")
    rest = read_api.get(body["next"]).json()
    assert [f["name"] for f in rest["results"]] == ["receipt_2.xml"] and rest["next"] is None
    response = read_api.get(body["results"][1]["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<Receipt n='1'/>"
    assert "attachment" in response["Content-Disposition"]
    # Whatever the client accepts, it gets the file as what it is (not a 406).
    for accept in ("application/xml", "application/pdf", "text/html"):
        response = read_api.get(body["results"][0]["url"], HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"] == "application/xml"
        assert b"".join(response.streaming_content) == b"<Receipt n='0'/>"


def test_path_traversal_and_other_folders_are_not_reachable(ledger, other_ledger, read_api):
    write_atomic(company_dir(ledger.company_no, "inbox") / "secret.xml", b"inbox")
    write_atomic(company_dir(other_ledger.company_no, "outbox") / "theirs.xml", b"other client")
    (sftp_root() / "top.txt").write_bytes(b"root")
    for name in ["..%2Finbox%2Fsecret.xml", "..", "...", "%2E%2E", ".receipt.tmp", "..%2F..%2Ftop.txt",
                 "theirs.xml", "%2Fetc%2Fpasswd", "a%5C..%5Cb"]:  # fmt: skip
        response = read_api.get(url(ledger, f"files/{name}/"))
        assert response.status_code == 404, name
        assert b"other client" not in response.content and b"root" not in response.content
    assert_problem(read_api.get(url(ledger, "files/missing.xml/")), 404, "file_not_found")
