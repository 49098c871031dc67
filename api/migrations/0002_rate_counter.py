"""The per-token request counters of the rate limit (api/throttling.py).

UNLOGGED: a counter is written on every request, and losing the counts of the current minute in a
crash is harmless, so it is not worth a WAL record and a flush per request.
"""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE api_rate_counter (
    token_id bigint NOT NULL REFERENCES api_apitoken (id) ON DELETE CASCADE,
    window_start bigint NOT NULL,
    requests integer NOT NULL CHECK (requests > 0),
    PRIMARY KEY (token_id, window_start)
);
"""


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql="DROP TABLE api_rate_counter;")]
