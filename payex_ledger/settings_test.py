"""The tests' settings: production's, with what the tests need set, as `make demo` sets its own.

DEBUG on at import, as in development: static files without a collected manifest, and no HTTPS redirect
or secure-only cookies for the test client. Django's test runner still runs every test with DEBUG off, so
error pages are the product's own. Set in the environment, so the processes a test starts (manage.py,
a Celery worker) read the same."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from .settings import *  # noqa: E402, F403
