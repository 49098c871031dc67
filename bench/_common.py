"""What every benchmark shares: progress lines, checks, and a throwaway database.

A benchmark never touches the configured database's data: it creates `ledger_bench_<pid>` on the
same server (DATABASE_URL, else the embedded one), migrates it, and drops it at the end.
"""

import os
import sys
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
