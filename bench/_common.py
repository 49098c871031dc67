"""What every benchmark shares: progress lines, checks, and a throwaway database.

A benchmark never touches the configured database's data: it creates `ledger_bench_<pid>` on the
same server (DATABASE_URL, else the embedded one), migrates it, and drops it at the end.
"""

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "payex_ledger.settings"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Point Django's default connection at a new, empty database for the block; drop it after."""
    import django

    django.setup()

    import psycopg
    from django.conf import settings
    from django.db import connection, connections

    # An autocommit connection to the configured database, used only for CREATE/DROP DATABASE.
    admin_params = connection.get_connection_params()
    connections.close_all()
    name = f"ledger_bench_{os.getpid()}"
    with psycopg.connect(**admin_params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    progress(f"created throwaway database {name}")
    try:
        settings.DATABASES["default"]["NAME"] = name
        connection.settings_dict["NAME"] = name
        yield name
    finally:
        connections.close_all()
        with psycopg.connect(**admin_params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"dropped throwaway database {name}")


def bench_main(run, args, database=None) -> int:
    """Run the benchmark in a throwaway database (or the one given); a failed check prints and returns 1.
    Stopped with SIGTERM (or SIGINT in the background) it still drops the database."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(1))
    try:
        with database if database is not None else throwaway_database():
            return run(args)
    except CheckFailed as exc:
        print(f"CHECK FAILED: {exc}", flush=True)
        return 1


def migrate_and_describe() -> tuple[str, str, str, str, str]:
    """Migrate the throwaway database; its name, the server's version and the settings that move write figures
    (synchronous_commit, fsync, shared_buffers), for the printout."""
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    progress(f"migrated in {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), current_setting('server_version'), "
            "current_setting('synchronous_commit'), current_setting('fsync'), "
            "current_setting('shared_buffers')"
        )
        db_name, version, sync_commit, fsync, shared_buffers = cursor.fetchone()
    assert db_name.startswith("ledger_bench_"), db_name  # never run against the real database
    return db_name, version, sync_commit, fsync, shared_buffers


# The read models' trigger functions (ledger/sql/journal_months*.sql, open_versions.sql).
READ_MODEL_FUNCTIONS = (
    "ledger_journal_month_add", "ledger_paid_month_add", "ledger_open_version_add", "ledger_account_day_add",
    "ledger_registration_day_add",
)  # fmt: skip


def function_stats_reset() -> None:
    """Count the time this connection spends in PL/pgSQL functions from here on (superuser: the bench's
    throwaway database)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET track_functions = 'pl'")
        cursor.execute("SELECT pg_stat_reset()")


def function_seconds(names: tuple[str, ...]) -> float:
    """The time spent in the named functions since function_stats_reset, their own statements included."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:  # the flush happens at the end of the previous transaction
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(sum(total_time), 0) / 1000 FROM pg_stat_user_functions WHERE funcname = ANY(%s)",
            [list(names)],
        )
        return float(cursor.fetchone()[0])


# The read models' triggers (READ_MODEL_FUNCTIONS), by table.
READ_MODEL_TRIGGERS = {
    "ledger_posting": ["posting_journal_months", "posting_open_versions", "posting_account_days"],
    "ledger_invoiceevent": ["invoiceevent_paid_months", "invoiceevent_registration_days"],
}


@contextlib.contextmanager
def read_model_triggers_disabled() -> Iterator[None]:
    """A writer as it would be without the read models' triggers (a benchmark's measure of what they cost;
    the caller leaves out what the writer keeps itself). ALTER TABLE commits at once, in autocommit."""
    from django.db import connection

    def switch(state: str) -> None:
        with connection.cursor() as cursor:
            for table, triggers in READ_MODEL_TRIGGERS.items():
                for trigger in triggers:
                    cursor.execute(f"ALTER TABLE {table} {state} TRIGGER {trigger}")

    switch("DISABLE")
    try:
        yield
    finally:
        switch("ENABLE")
