"""End to end over a real SFTP server: a client uploads into its chrooted inbox, the watcher imports the
file, and the client downloads the receipt from its outbox.

The server (asyncssh, in-process, loopback only) runs on an event loop in a background thread; the SSH
client's coroutines run on that loop too. The test thread itself never runs an event loop, so it calls
`inbox_scan` (and the ORM) synchronously, inside the test's database transaction.
"""

import asyncio
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncssh
import pytest
from lxml import etree

from cusin.generate import CustomerSpec, InvoiceSpec, write_cusin
from cusin.inbox import inbox_scan
from ledger.models import Invoice
from ledger.outbox import FOLDERS, company_dir, sftp_root
from tests.factories import LedgerFactory

NAME = "CUSIN_7777_20260115083000_1.xml"
TIMEOUT = 20  # seconds for any one SFTP step


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR


@pytest.fixture
def no_ledger(db):
    return LedgerFactory(company_no="7777", ledger_no="54321", country="NO")


@pytest.fixture
def loop():
    """An event loop running in a background thread; `run(coro)` runs a coroutine on it, bounded."""
    event_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=event_loop.run_forever, name="sftp-loop", daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, event_loop).result(timeout=TIMEOUT)

    yield run
    event_loop.call_soon_threadsafe(event_loop.stop)
    thread.join(TIMEOUT)
    event_loop.close()


@pytest.fixture
def sftp_server(loop, data_dir):
    """An SFTP server on 127.0.0.1 that chroots each client (user name = CompanyNo) to its folder."""
    root = Path(sftp_root())
    for folder in FOLDERS:
        company_dir("7777", folder)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")

    class ChrootedSFTP(asyncssh.SFTPServer):
        """What OpenSSH's `internal-sftp` with `ChrootDirectory .../sftp/%u` does in production."""

        def __init__(self, chan):
            company_no = chan.get_extra_info("username")
            if not company_no.isdigit():
                raise asyncssh.DisconnectError(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "no such client")
            super().__init__(chan, chroot=str(root / company_no).encode())

    async def start():
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(client_key.export_public_key().decode()),
            sftp_factory=ChrootedSFTP,
            allow_scp=False,
            login_timeout=TIMEOUT,
        )

    server = loop(start())
    port = server.sockets[0].getsockname()[1]
    yield {"port": port, "client_key": client_key, "host_key": host_key.convert_to_public()}

    async def stop():
        server.close()
        await server.wait_closed()

    loop(stop())


@pytest.fixture
def sftp(loop, sftp_server):
    """An SFTP client logged in as CompanyNo 7777 with its key, checking the server's host key."""

    async def connect():
        conn = await asyncssh.connect(
            "127.0.0.1",
            sftp_server["port"],
            username="7777",
            client_keys=[sftp_server["client_key"]],
            known_hosts=([sftp_server["host_key"]], [], []),
            connect_timeout=TIMEOUT,
        )
        return conn, await conn.start_sftp_client()

    conn, client = loop(connect())
    yield client

    async def close():
        client.exit()
        conn.close()
        await conn.wait_closed()

    loop(close())


def cusin_file(path: Path) -> Path:
    return write_cusin(
        path,
        company_no="7777",
        customers=[
            CustomerSpec(
                customer_no="1",
                name="Kari Nordmann",
                street="Storgata 1",
                zip_code="0155",
                city="Oslo",
                items=[
                    InvoiceSpec(
                        invoice_no="SFTP-1",
                        invoice_date=date(2026, 1, 15),
                        amount_excl_vat=Decimal("800.00"),
                        vat_amount=Decimal("200.00"),
                        currency="NOK",
                    )
                ],
            )
        ],
    )


def test_a_file_uploaded_over_sftp_is_imported_and_its_receipt_downloaded(no_ledger, loop, sftp, tmp_path):
    local = cusin_file(tmp_path / NAME)

    # The client sees only its own tree: inbox, outbox, archive, failed.
    assert sorted(loop(sftp.listdir("/"))) == [".", "..", "archive", "failed", "inbox", "outbox"]
    assert loop(sftp.realpath("/../..")) == "/"

    # A careful client uploads under a temporary name, then renames: the half-written file is ignored.
    loop(sftp.put(str(local), f"/inbox/{NAME}.part"))
    assert inbox_scan(min_age_seconds=0) == {"files": [], "skipped_incomplete": 1}
    assert not Invoice.objects.filter(ledger=no_ledger).exists()

    loop(sftp.rename(f"/inbox/{NAME}.part", f"/inbox/{NAME}"))
    summary = inbox_scan(min_age_seconds=0)

    assert summary == {
        "files": [{"company_no": "7777", "file": NAME, "status": "accepted", "moved_to": f"archive/{NAME}"}],
        "skipped_incomplete": 0,
    }
    assert Invoice.objects.get(ledger=no_ledger, invoice_no="SFTP-1").amount == Decimal("1000.00")

    # The client picks up the receipt where it expects it, and finds its file archived.
    receipt_name = "CUSIN_7777_20260115083000_1_receipt.xml"
    assert receipt_name in loop(sftp.listdir("/outbox"))
    assert sorted(loop(sftp.listdir("/inbox"))) == [".", ".."]
    assert NAME in loop(sftp.listdir("/archive"))

    async def download() -> bytes:
        async with sftp.open(f"/outbox/{receipt_name}", "rb") as handle:
            return await handle.read()

    receipt = etree.fromstring(loop(download()))
    assert receipt.findtext("Status") == "Accepted"
    assert (receipt.findtext("FileName"), receipt.findtext("NoOfInvoices")) == (NAME, "1")
