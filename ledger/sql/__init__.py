"""SQL kept as files, run by migrations (forward and reverse)."""

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent


def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")
