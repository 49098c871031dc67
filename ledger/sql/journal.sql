-- Journal invariants, enforced by PostgreSQL itself (reverse: journal_reverse.sql).

-- Every posting, and every invoice it names, belongs to the ledger of its transaction and account.
ALTER TABLE ledger_journaltransaction ADD CONSTRAINT journaltransaction_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_account ADD CONSTRAINT account_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_invoice ADD CONSTRAINT invoice_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_customer ADD CONSTRAINT customer_id_ledger_unique UNIQUE (id, ledger_id);
ALTER TABLE ledger_payment ADD CONSTRAINT payment_id_ledger_unique UNIQUE (id, ledger_id);
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
ALTER TABLE ledger_invoice
    ADD CONSTRAINT invoice_customer_same_ledger FOREIGN KEY (customer_id, ledger_id)
        REFERENCES ledger_customer (id, ledger_id);

-- The postings of a transaction sum to zero per currency, checked at commit so that a
-- transaction's lines can be inserted one by one (or by COPY) inside one database transaction.
CREATE FUNCTION ledger_posting_balance_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT currency, sum(amount) AS total INTO off
      FROM ledger_posting
     WHERE transaction_id = NEW.transaction_id
     GROUP BY currency
    HAVING sum(amount) <> 0
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal transaction % does not balance: postings sum to % %',
            NEW.transaction_id, off.total, off.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'posting_transaction_balanced';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER posting_transaction_balanced
    AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_balance_check();

-- A transaction without postings is not a booking.
CREATE FUNCTION ledger_transaction_has_postings_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.id) THEN
        RAISE EXCEPTION 'journal transaction % has no postings', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journaltransaction_has_postings';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER journaltransaction_has_postings
    AFTER INSERT ON ledger_journaltransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_has_postings_check();

-- The journal is append-only: corrections are reversing transactions.
CREATE FUNCTION ledger_journal_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused, book a reversing transaction instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER posting_append_only
    BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_append_only();

CREATE TRIGGER journaltransaction_append_only
    BEFORE UPDATE OR DELETE ON ledger_journaltransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_append_only();
