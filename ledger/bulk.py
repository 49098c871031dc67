"""Helpers for the bulk paths (file imports): what makes a 100,000-row job fast in CPython and PostgreSQL
(COPY lines, id blocks, arrays as parameters), and what lets a long job outlive a dropped connection.
Plumbing: no knowledge of the ledger's models."""

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

from django.db import connection
from django.db.models.expressions import RawSQL

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


# json.dumps' output, without its check for reference cycles (none in data read from a file or request).
_json_text = json.JSONEncoder(check_circular=False).encode


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block.

    A bulk import creates a few hundred thousand small objects (records, plans, rows) that live until
    the end. Each 700 allocations start a collection, and the older generations are walked again and
    again: for a 100,000-payment file that was a third of the Python time. The objects made here form
    no reference cycles, so reference counting frees them as ever; the collector runs again after the
    block. It is paused for the whole process (other threads too) and switched back on only if it was
    on, so overlapping blocks in threads leave it on at the end whatever order they finish in.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _int_array(values: Iterable[int]) -> str:
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def _text_array(values: Iterable[str]) -> str:
    """A text[] literal: in it every value is quoted, with its backslashes and quotes escaped."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def customer_nos_in(numbers: Iterable[str]) -> RawSQL:
    """For `customer_no__in=`: the numbers as one text[] parameter. Building a 500-value IN list
    (the ORM, psycopg) costs several times more than the query."""
    return RawSQL("SELECT unnest(%s::text[])", [_text_array(numbers)])


def _next_ids(table: str, count: int) -> list[int]:
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        # One text value instead of `count` rows: fetching 100,000 rows costs more than splitting them.
        cursor.execute(
            f"SELECT string_agg(nextval(pg_get_serial_sequence('{table}', 'id'))::text, ',')"
            " FROM generate_series(1, %s)",
            [count],
        )
        (ids,) = cursor.fetchone()
    return [int(i) for i in ids.split(",")]


def _copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _copy_field(value) -> str:
    """One value as a field of COPY's text format (as psycopg's text dumpers would write it)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return _copy_json(value)
    return str(value)


def _copy_json(value) -> str:
    if value == {}:  # what most customer events carry as their old or new value
        return "{}"
    # The encoder escapes tabs and newlines inside strings, so only its backslashes need doubling.
    return _json_text(value).replace("\\", "\\\\")


def _copy_lines(table: str, columns: Sequence[str], lines: Iterable[str], *, cursor=None) -> None:
    """COPY rows given as lines of COPY's text format (see _copy_field), sent 1,000 at a time.

    `cursor`: a psycopg cursor to use instead of Django's (the payments import's writer thread)."""
    if cursor is None:
        with connection.cursor() as cursor:
            return _copy_lines(table, columns, lines, cursor=cursor)
    lines = iter(lines)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := "".join(islice(lines, 1000)):
            copy.write(chunk)


# The bulk paths below (customers and invoices, some 300,000 rows for a CUSIN file) write COPY's text
# format themselves: psycopg's write_row adapts every value by its type, which cost more than the rest
# of building the rows. A row is a line of tab-separated fields; NULL is \N.


@contextmanager
def read_models_written_here() -> Iterator[None]:
    """Inside: the statements add postings whose read models the caller writes itself, so the posting
    triggers that keep them (ledger/sql/open_versions.sql, journal_months_probes.sql) return at once.
    The setting is local to the transaction: on an error the rollback (of the transaction or its
    savepoint) takes it back with the rest."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('ledger.read_models_written', 'on', true)")
        yield
        cursor.execute("SELECT set_config('ledger.read_models_written', 'off', true)")


def connection_drop_if_broken() -> None:
    """After an error a job survives (a file's import failed, a part of the business day): a connection
    the database cut (a restart, a failover) is closed, so the next query opens a new one instead of
    failing on the dead one. Never inside a transaction: its owner decides what the error means."""
    if connection.in_atomic_block or connection.connection is None:
        return
    if not connection.is_usable():
        connection.close()
