-- Back to the per-row composite foreign keys of journal.sql and tenancy_keys.sql.
DROP TRIGGER IF EXISTS payment_key_kept ON ledger_payment;
DROP TRIGGER IF EXISTS payment_kept ON ledger_payment;
DROP TRIGGER IF EXISTS invoice_key_kept ON ledger_invoice;
DROP TRIGGER IF EXISTS invoice_kept ON ledger_invoice;
DROP TRIGGER IF EXISTS customer_key_kept ON ledger_customer;
DROP TRIGGER IF EXISTS customer_kept ON ledger_customer;
DROP TRIGGER IF EXISTS account_key_kept ON ledger_account;
DROP TRIGGER IF EXISTS account_kept ON ledger_account;
DROP TRIGGER IF EXISTS paymentfile_key_kept ON ledger_paymentfile;
DROP TRIGGER IF EXISTS paymentfile_kept ON ledger_paymentfile;
DROP TRIGGER IF EXISTS ledger_key_kept ON ledger_ledger;
DROP TRIGGER IF EXISTS ledger_kept ON ledger_ledger;
DROP FUNCTION IF EXISTS ledger_row_kept();

DROP TRIGGER IF EXISTS invoice_keys_changed ON ledger_invoice;
DROP TRIGGER IF EXISTS customerevent_keys_changed ON ledger_customerevent;
DROP TRIGGER IF EXISTS payment_keys_changed ON ledger_payment;
DROP TRIGGER IF EXISTS invoiceevent_keys_changed ON ledger_invoiceevent;
DROP FUNCTION IF EXISTS ledger_keys_check_row();

DROP TRIGGER IF EXISTS invoice_keys_check ON ledger_invoice;
DROP FUNCTION IF EXISTS ledger_invoice_keys_check();
DROP TRIGGER IF EXISTS customerevent_keys_check ON ledger_customerevent;
DROP FUNCTION IF EXISTS ledger_customerevent_keys_check();
DROP TRIGGER IF EXISTS payment_keys_check ON ledger_payment;
DROP FUNCTION IF EXISTS ledger_payment_keys_check();
DROP TRIGGER IF EXISTS invoiceevent_keys_check ON ledger_invoiceevent;
DROP FUNCTION IF EXISTS ledger_invoiceevent_keys_check();
DROP TRIGGER IF EXISTS journaltransaction_keys_check ON ledger_journaltransaction;
DROP FUNCTION IF EXISTS ledger_journaltransaction_keys_check();
DROP TRIGGER IF EXISTS posting_keys_check ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_posting_keys_check();
DROP FUNCTION IF EXISTS ledger_key_violation(text, text, text, text, text);

ALTER TABLE ledger_journaltransaction ADD CONSTRAINT journaltransaction_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_payment ADD CONSTRAINT payment_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_account ADD CONSTRAINT account_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_invoice
    ADD CONSTRAINT invoice_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
ALTER TABLE ledger_customerevent
    ADD CONSTRAINT customerevent_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
ALTER TABLE ledger_payment
    ADD CONSTRAINT payment_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT payment_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);
ALTER TABLE ledger_invoiceevent
    ADD CONSTRAINT invoiceevent_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT invoiceevent_transaction_same_ledger FOREIGN KEY (transaction_id, ledger_id)
        REFERENCES ledger_journaltransaction (id, ledger_id);
ALTER TABLE ledger_journaltransaction
    ADD CONSTRAINT journaltransaction_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT journaltransaction_payment_same_ledger FOREIGN KEY (payment_id, ledger_id)
        REFERENCES ledger_payment (id, ledger_id);
ALTER TABLE ledger_posting
    ADD CONSTRAINT posting_transaction_same_ledger FOREIGN KEY (transaction_id, ledger_id)
        REFERENCES ledger_journaltransaction (id, ledger_id),
    ADD CONSTRAINT posting_account_same_ledger FOREIGN KEY (account_id, ledger_id)
        REFERENCES ledger_account (id, ledger_id),
    ADD CONSTRAINT posting_invoice_same_ledger FOREIGN KEY (invoice_id, ledger_id)
        REFERENCES ledger_invoice (id, ledger_id),
    ADD CONSTRAINT posting_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id),
    ADD CONSTRAINT posting_payment_same_ledger FOREIGN KEY (payment_id, ledger_id)
        REFERENCES ledger_payment (id, ledger_id);
