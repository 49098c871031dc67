-- Composite (x_id, ledger_id) keys for a minor's guardian and an invoice's other payer (as
-- tenancy_keys.sql): each is a customer of the same ledger, or the database refuses it. A NULL (no
-- guardian, no other payer) is not checked. Reverse: tenancy_keys_3_reverse.sql.

ALTER TABLE ledger_customer
    ADD CONSTRAINT customer_guardian_same_ledger FOREIGN KEY (guardian_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);

ALTER TABLE ledger_invoice
    ADD CONSTRAINT invoice_payer_same_ledger FOREIGN KEY (payer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
