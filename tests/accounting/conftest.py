import pytest


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LEDGER_DATA_DIR = tmp_path / "data"
    return settings.LEDGER_DATA_DIR
