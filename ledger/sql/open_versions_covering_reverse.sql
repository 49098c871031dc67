DROP INDEX openversion_current_idx;
CREATE INDEX openversion_current_idx ON ledger_openversion (ledger_id, valid_from)
    WHERE valid_to IS NULL AND open <> 0;
DROP INDEX openversion_closed_idx;
CREATE INDEX openversion_closed_idx ON ledger_openversion
    USING gist (ledger_id, daterange(valid_from, valid_to)) WHERE valid_to IS NOT NULL AND open <> 0;
