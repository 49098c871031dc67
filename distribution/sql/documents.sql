-- A document names a customer and an invoice of its own ledger: composite (x_id, ledger_id) keys
-- (the unique (id, ledger_id) keys they reference are in ledger/sql/journal.sql).
ALTER TABLE distribution_document
    ADD CONSTRAINT document_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id),
    ADD CONSTRAINT document_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT document_ledger_fk FOREIGN KEY (ledger_id) REFERENCES ledger_ledger (id);
