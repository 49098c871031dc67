"""The "api" cache's table (settings.CACHES), for the per-token rate limit when Redis is not configured.

The same layout `manage.py createcachetable` makes, created here so that every database (tests too)
has it without an extra step.
"""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS api_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS api_cache_expires ON api_cache (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql="DROP TABLE IF EXISTS api_cache;")]
