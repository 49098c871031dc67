import pytest
from django.db import connection


@pytest.fixture
def db(db):
    """pytest-django's `db`, plus: at the end of the test, fire the deferred journal constraints.

    Each test runs in a transaction that is rolled back, so deferred triggers (the journal balance)
    would never run. Making them immediate before the rollback checks everything the test booked.
    """
    yield db
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture(autouse=True)
def _statutory_figures_after_flush(request):
    """Tests with committed data (transactional_db) flush every table afterwards, the statutory figures
    migration claims/0002 loaded too: a later such test gets them back, as a fresh database has them."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
        from claims.services.process import statutory_figures_install

        statutory_figures_install()


@pytest.fixture(autouse=True)
def _fresh_figures_read_cache():
    """Each test reads the statutory figures as its own database has them."""
    from claims import figures, selectors

    figures._READ_CACHE.clear()
    selectors._CONFIG_CACHE.clear()


from tests.browser import browser, browser_context, browser_page  # noqa: E402, F401  (fixtures)
