-- Composite (x_id, ledger_id) keys for the rows that name an invoice, payment, customer or journal
-- transaction: the row must exist AND belong to the same ledger. They replace Django's single-column
-- keys on these columns, which checked existence only, a second time, at commit.
-- (Reverse: tenancy_keys_reverse.sql. The unique (id, ledger_id) keys they reference are in journal.sql.)

ALTER TABLE ledger_journaltransaction
    ADD CONSTRAINT journaltransaction_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT journaltransaction_payment_same_ledger FOREIGN KEY (payment_id, ledger_id)
        REFERENCES ledger_payment (id, ledger_id);

ALTER TABLE ledger_invoiceevent
    ADD CONSTRAINT invoiceevent_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT invoiceevent_transaction_same_ledger FOREIGN KEY (transaction_id, ledger_id)
        REFERENCES ledger_journaltransaction (id, ledger_id);

ALTER TABLE ledger_payment
    ADD CONSTRAINT payment_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT payment_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);

ALTER TABLE ledger_customerevent
    ADD CONSTRAINT customerevent_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
