DROP INDEX openversion_closed_idx;
CREATE INDEX openversion_closed_idx ON ledger_openversion
    USING gist (ledger_id, daterange(valid_from, valid_to))
    INCLUDE (invoice_id, customer_id, due_date, capital, fees, interest, paid, open)
    WHERE valid_to IS NOT NULL AND open <> 0;
