"""Small bookings tests need before the claims process exists to make them."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import connection

from ledger.models import AccountRole, Component, TransactionKind
from ledger.services.journal import Line, journal_book


@contextmanager
def triggers_off():
    """Writes inside run no triggers, as a restore or a bulk load with session_replication_role = replica
    leaves them: the read models miss them (what verify_ledger must find)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("SET session_replication_role = origin")


# Public bank and PEPPOL sample files, byte-exact copies (tests/samples/README.md names each source).
SAMPLES = Path(__file__).resolve().parent / "samples"


def book_costs(invoice, *, fee: Decimal = Decimal(0), interest: Decimal = Decimal(0), day=date(2026, 2, 1)):
    """Book a fee and/or interest on an invoice, as the claim process will."""
    lines = []
    if fee:
        lines += [
            Line(role=AccountRole.RECEIVABLE_FEE, amount=fee, component=Component.FEE, invoice=invoice),
            Line(role=AccountRole.FEE_INCOME, amount=-fee, invoice=invoice),
        ]
    if interest:
        lines += [
            Line(
                role=AccountRole.RECEIVABLE_INTEREST,
                amount=interest,
                component=Component.INTEREST,
                invoice=invoice,
            ),
            Line(role=AccountRole.INTEREST_INCOME, amount=-interest, invoice=invoice),
        ]
    return journal_book(
        ledger=invoice.ledger,
        kind=TransactionKind.FEE,
        booking_date=day,
        actor="test",
        invoice=invoice,
        lines=lines,
    )


def run_two_workers(module, job, monkeypatch) -> tuple[dict, list]:
    """Run `job` in two threads, the second starting while the first holds its claims (it is held at
    `module.write_atomic`). Returns the results by thread name ("first", "second") and any errors.

    The second worker must still be waiting when the first is released: proof that the claim blocks it.
    """
    import threading
    import time

    from django.db import connection

    real_write = module.write_atomic
    first_claimed, release = threading.Event(), threading.Event()

    def slow_write(path, content):
        if threading.current_thread().name == "first":
            first_claimed.set()
            assert release.wait(30)
        return real_write(path, content)

    monkeypatch.setattr(module, "write_atomic", slow_write)
    results, errors = {}, []

    def worker():
        try:
            results[threading.current_thread().name] = job()
        except Exception as exc:  # reported to the caller
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=worker, name="first")
    first.start()
    assert first_claimed.wait(30)
    second = threading.Thread(target=worker, name="second")
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # it waits for the first worker's claims
    release.set()
    first.join(30)
    second.join(30)
    return results, errors


def sign_in(client, user):
    """Sign a test client in to 360 and the admin as `user`, second factor given now (the sign-in
    itself is tested in tests/portal360/test_signin.py)."""
    import time as _time

    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_email.models import EmailDevice

    from portal360.middleware import SESSION_VERIFIED_AT

    device = EmailDevice.objects.filter(user=user).first() or EmailDevice.objects.create(
        user=user, name="test"
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_VERIFIED_AT] = int(_time.time())
    session.save()
    return client
