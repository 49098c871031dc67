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
