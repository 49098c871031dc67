from pathlib import Path


def read_sql(name: str) -> str:
    return (Path(__file__).resolve().parent / name).read_text()
