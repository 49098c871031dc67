-- Composite (x_id, ledger_id) keys for the tables of issue 28 (as tenancy_keys.sql): an invoice
-- attachment, an Autogiro mandate request and an eFaktura match name an invoice or customer of their
-- own ledger, or the database refuses them. Reverse: tenancy_keys_2_reverse.sql.

ALTER TABLE ledger_invoiceattachment
    ADD CONSTRAINT invoiceattachment_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id);

ALTER TABLE ledger_autogiromandaterequest
    ADD CONSTRAINT autogiromandaterequest_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);

ALTER TABLE distribution_efakturamatch
    ADD CONSTRAINT efakturamatch_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
