-- The tenancy keys, checked once per statement (reverse: tenancy_checks_reverse.sql).
--
-- journal.sql and tenancy_keys.sql keyed every reference between the ledger's tables with a composite
-- (x_id, ledger_id) foreign key: the row named must exist AND belong to the same ledger. A foreign key
-- checks one row at a time, a query of its own per key per row: a 100,000-payment file made about a
-- million of them. Here the same rules hold, checked set-based:
--
--   * An AFTER INSERT statement trigger per table reads the statement's new rows (a transition table)
--     and looks every reference up in one query. A violation raises foreign_key_violation naming the
--     old constraint, at the end of the statement, as the foreign key did.
--   * A changed reference (UPDATE of a key column) is checked per row by ledger_keys_check_row(); the
--     trigger's WHEN clause skips every update that leaves the keys alone.
--   * The rows referred to are never deleted and never change their id or ledger: what a foreign key
--     protects on the referenced side (NO ACTION), and what lets the checks above take no row locks.
--     Invoices, payments, customers and accounts are kept for the ledger's history; an invoice is
--     credited or closed, a payment reversed or refunded, never deleted.
--
-- Ledger rows (ledger_id) of payments and journal transactions, and the payment's file, are checked the
-- same way: Django's single-column keys on those columns are dropped by the same migration. The unique
-- (id, ledger_id) keys of journal transactions, payments and accounts were there for the foreign keys
-- to refer to; nothing refers to them now (the id alone is unique), so they go too. Invoices and
-- customers keep theirs: distribution's document keys refer to them.

ALTER TABLE ledger_posting
    DROP CONSTRAINT posting_transaction_same_ledger,
    DROP CONSTRAINT posting_account_same_ledger,
    DROP CONSTRAINT posting_invoice_same_ledger,
    DROP CONSTRAINT posting_customer_same_ledger,
    DROP CONSTRAINT posting_payment_same_ledger;
ALTER TABLE ledger_journaltransaction
    DROP CONSTRAINT journaltransaction_invoice_same_ledger,
    DROP CONSTRAINT journaltransaction_payment_same_ledger;
ALTER TABLE ledger_invoiceevent
    DROP CONSTRAINT invoiceevent_invoice_same_ledger,
    DROP CONSTRAINT invoiceevent_transaction_same_ledger;
ALTER TABLE ledger_payment
    DROP CONSTRAINT payment_invoice_same_ledger,
    DROP CONSTRAINT payment_customer_same_ledger;
ALTER TABLE ledger_customerevent DROP CONSTRAINT customerevent_customer_same_ledger;
ALTER TABLE ledger_invoice DROP CONSTRAINT invoice_customer_same_ledger;
ALTER TABLE ledger_journaltransaction DROP CONSTRAINT journaltransaction_id_ledger_unique;
ALTER TABLE ledger_payment DROP CONSTRAINT payment_id_ledger_unique;
ALTER TABLE ledger_account DROP CONSTRAINT account_id_ledger_unique;

-- What a failed check raises: the foreign key's own error, with the constraint's old name.
CREATE FUNCTION ledger_key_violation(tbl text, constraint_name text, key_columns text, key_values text, parent text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', tbl, constraint_name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, TABLE = tbl,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', key_columns, key_values, parent);
END;
$$;

-- Postings: transaction, account, invoice, customer and payment, each of the posting's own ledger
-- (the ledger itself exists because the transaction's does).
CREATE FUNCTION ledger_posting_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.*,
           NOT EXISTS (SELECT 1 FROM ledger_journaltransaction AS t
                        WHERE t.id = n.transaction_id AND t.ledger_id = n.ledger_id) AS no_transaction,
           NOT EXISTS (SELECT 1 FROM ledger_account AS a
                        WHERE a.id = n.account_id AND a.ledger_id = n.ledger_id) AS no_account,
           n.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i
                        WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id) AS no_invoice,
           n.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_customer AS c
                        WHERE c.id = n.customer_id AND c.ledger_id = n.ledger_id) AS no_customer
      INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_journaltransaction AS t
                        WHERE t.id = n.transaction_id AND t.ledger_id = n.ledger_id)
        OR NOT EXISTS (SELECT 1 FROM ledger_account AS a WHERE a.id = n.account_id AND a.ledger_id = n.ledger_id)
        OR (n.invoice_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id))
        OR (n.customer_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_customer AS c WHERE c.id = n.customer_id AND c.ledger_id = n.ledger_id))
        OR (n.payment_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_payment AS p WHERE p.id = n.payment_id AND p.ledger_id = n.ledger_id))
     LIMIT 1;
    IF FOUND THEN
        IF bad.no_transaction THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'posting_transaction_same_ledger', 'transaction_id, ledger_id',
                                         concat_ws(', ', bad.transaction_id, bad.ledger_id), 'ledger_journaltransaction');
        ELSIF bad.no_account THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'posting_account_same_ledger', 'account_id, ledger_id',
                                         concat_ws(', ', bad.account_id, bad.ledger_id), 'ledger_account');
        ELSIF bad.no_invoice THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'posting_invoice_same_ledger', 'invoice_id, ledger_id',
                                         concat_ws(', ', bad.invoice_id, bad.ledger_id), 'ledger_invoice');
        ELSIF bad.no_customer THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'posting_customer_same_ledger', 'customer_id, ledger_id',
                                         concat_ws(', ', bad.customer_id, bad.ledger_id), 'ledger_customer');
        ELSE
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'posting_payment_same_ledger', 'payment_id, ledger_id',
                                         concat_ws(', ', bad.payment_id, bad.ledger_id), 'ledger_payment');
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posting_keys_check
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_posting_keys_check();

-- Journal transactions: their ledger, and the invoice and payment they book, of that ledger.
CREATE FUNCTION ledger_journaltransaction_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.*,
           NOT EXISTS (SELECT 1 FROM ledger_ledger AS l WHERE l.id = n.ledger_id) AS no_ledger,
           n.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i
                        WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id) AS no_invoice
      INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_ledger AS l WHERE l.id = n.ledger_id)
        OR (n.invoice_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id))
        OR (n.payment_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_payment AS p WHERE p.id = n.payment_id AND p.ledger_id = n.ledger_id))
     LIMIT 1;
    IF FOUND THEN
        IF bad.no_ledger THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'journaltransaction_ledger_exists', 'ledger_id',
                                         bad.ledger_id::text, 'ledger_ledger');
        ELSIF bad.no_invoice THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'journaltransaction_invoice_same_ledger', 'invoice_id, ledger_id',
                                         concat_ws(', ', bad.invoice_id, bad.ledger_id), 'ledger_invoice');
        ELSE
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'journaltransaction_payment_same_ledger', 'payment_id, ledger_id',
                                         concat_ws(', ', bad.payment_id, bad.ledger_id), 'ledger_payment');
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journaltransaction_keys_check
    AFTER INSERT ON ledger_journaltransaction
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_journaltransaction_keys_check();

-- Invoice events: the invoice and the transaction, of the event's ledger.
CREATE FUNCTION ledger_invoiceevent_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.*,
           NOT EXISTS (SELECT 1 FROM ledger_invoice AS i
                        WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id) AS no_invoice
      INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_invoice AS i WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id)
        OR (n.transaction_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_journaltransaction AS t
                             WHERE t.id = n.transaction_id AND t.ledger_id = n.ledger_id))
     LIMIT 1;
    IF FOUND THEN
        IF bad.no_invoice THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'invoiceevent_invoice_same_ledger', 'invoice_id, ledger_id',
                                         concat_ws(', ', bad.invoice_id, bad.ledger_id), 'ledger_invoice');
        ELSE
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'invoiceevent_transaction_same_ledger', 'transaction_id, ledger_id',
                                         concat_ws(', ', bad.transaction_id, bad.ledger_id), 'ledger_journaltransaction');
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER invoiceevent_keys_check
    AFTER INSERT ON ledger_invoiceevent
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_invoiceevent_keys_check();

-- Payments: their ledger and file, and the invoice and customer they were matched to, of that ledger.
CREATE FUNCTION ledger_payment_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.*,
           NOT EXISTS (SELECT 1 FROM ledger_ledger AS l WHERE l.id = n.ledger_id) AS no_ledger,
           n.file_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_paymentfile AS f
                        WHERE f.id = n.file_id) AS no_file,
           n.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i
                        WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id) AS no_invoice
      INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_ledger AS l WHERE l.id = n.ledger_id)
        OR (n.file_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_paymentfile AS f WHERE f.id = n.file_id))
        OR (n.invoice_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_invoice AS i WHERE i.id = n.invoice_id AND i.ledger_id = n.ledger_id))
        OR (n.customer_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_customer AS c WHERE c.id = n.customer_id AND c.ledger_id = n.ledger_id))
     LIMIT 1;
    IF FOUND THEN
        IF bad.no_ledger THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'payment_ledger_exists', 'ledger_id',
                                         bad.ledger_id::text, 'ledger_ledger');
        ELSIF bad.no_file THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'payment_file_exists', 'file_id',
                                         bad.file_id::text, 'ledger_paymentfile');
        ELSIF bad.no_invoice THEN
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'payment_invoice_same_ledger', 'invoice_id, ledger_id',
                                         concat_ws(', ', bad.invoice_id, bad.ledger_id), 'ledger_invoice');
        ELSE
            PERFORM ledger_key_violation(TG_TABLE_NAME, 'payment_customer_same_ledger', 'customer_id, ledger_id',
                                         concat_ws(', ', bad.customer_id, bad.ledger_id), 'ledger_customer');
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER payment_keys_check
    AFTER INSERT ON ledger_payment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_payment_keys_check();

-- Customer events: the customer, of the event's ledger.
CREATE FUNCTION ledger_customerevent_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.* INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_customer AS c WHERE c.id = n.customer_id AND c.ledger_id = n.ledger_id)
     LIMIT 1;
    IF FOUND THEN
        PERFORM ledger_key_violation(TG_TABLE_NAME, 'customerevent_customer_same_ledger', 'customer_id, ledger_id',
                                     concat_ws(', ', bad.customer_id, bad.ledger_id), 'ledger_customer');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER customerevent_keys_check
    AFTER INSERT ON ledger_customerevent
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_customerevent_keys_check();

-- Invoices: the customer, of the invoice's ledger (so the ledger exists too).
CREATE FUNCTION ledger_invoice_keys_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, n.customer_id, n.ledger_id INTO bad
      FROM new_rows AS n
     WHERE NOT EXISTS (SELECT 1 FROM ledger_customer AS c WHERE c.id = n.customer_id AND c.ledger_id = n.ledger_id)
     LIMIT 1;
    IF FOUND THEN
        PERFORM ledger_key_violation(TG_TABLE_NAME, 'invoice_customer_same_ledger', 'customer_id, ledger_id',
                                     concat_ws(', ', bad.customer_id, bad.ledger_id), 'ledger_customer');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER invoice_keys_check
    AFTER INSERT ON ledger_invoice
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_invoice_keys_check();

-- A changed reference, one row at a time. TG_ARGV holds, per reference: the constraint's name, the
-- column, the table it refers to, and 'same_ledger' (the row named must be of this row's ledger) or
-- 'exists'.
CREATE FUNCTION ledger_keys_check_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    i int := 0;
    ref bigint;
    present boolean;
BEGIN
    WHILE i < TG_NARGS LOOP
        EXECUTE format('SELECT ($1).%I', TG_ARGV[i + 1]) INTO ref USING NEW;
        IF ref IS NOT NULL THEN
            IF TG_ARGV[i + 3] = 'same_ledger' THEN
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1 AND ledger_id = $2)', TG_ARGV[i + 2])
                   INTO present USING ref, NEW.ledger_id;
                IF NOT present THEN
                    PERFORM ledger_key_violation(TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1] || ', ledger_id',
                                                 concat_ws(', ', ref, NEW.ledger_id), TG_ARGV[i + 2]);
                END IF;
            ELSE
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', TG_ARGV[i + 2])
                   INTO present USING ref;
                IF NOT present THEN
                    PERFORM ledger_key_violation(TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1], ref::text, TG_ARGV[i + 2]);
                END IF;
            END IF;
        END IF;
        i := i + 4;
    END LOOP;
    RETURN NULL;
END;
$$;

-- (Postings and journal transactions are append-only: journal.sql refuses their updates.)
CREATE TRIGGER invoiceevent_keys_changed
    AFTER UPDATE OF ledger_id, invoice_id, transaction_id ON ledger_invoiceevent
    FOR EACH ROW
    WHEN (OLD.ledger_id IS DISTINCT FROM NEW.ledger_id OR OLD.invoice_id IS DISTINCT FROM NEW.invoice_id
          OR OLD.transaction_id IS DISTINCT FROM NEW.transaction_id)
    EXECUTE FUNCTION ledger_keys_check_row(
        'invoiceevent_invoice_same_ledger', 'invoice_id', 'ledger_invoice', 'same_ledger',
        'invoiceevent_transaction_same_ledger', 'transaction_id', 'ledger_journaltransaction', 'same_ledger');

CREATE TRIGGER payment_keys_changed
    AFTER UPDATE OF ledger_id, file_id, invoice_id, customer_id ON ledger_payment
    FOR EACH ROW
    WHEN (OLD.ledger_id IS DISTINCT FROM NEW.ledger_id OR OLD.file_id IS DISTINCT FROM NEW.file_id
          OR OLD.invoice_id IS DISTINCT FROM NEW.invoice_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION ledger_keys_check_row(
        'payment_ledger_exists', 'ledger_id', 'ledger_ledger', 'exists',
        'payment_file_exists', 'file_id', 'ledger_paymentfile', 'exists',
        'payment_invoice_same_ledger', 'invoice_id', 'ledger_invoice', 'same_ledger',
        'payment_customer_same_ledger', 'customer_id', 'ledger_customer', 'same_ledger');

CREATE TRIGGER customerevent_keys_changed
    AFTER UPDATE OF ledger_id, customer_id ON ledger_customerevent
    FOR EACH ROW
    WHEN (OLD.ledger_id IS DISTINCT FROM NEW.ledger_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION ledger_keys_check_row(
        'customerevent_customer_same_ledger', 'customer_id', 'ledger_customer', 'same_ledger');

CREATE TRIGGER invoice_keys_changed
    AFTER UPDATE OF ledger_id, customer_id ON ledger_invoice
    FOR EACH ROW
    WHEN (OLD.ledger_id IS DISTINCT FROM NEW.ledger_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION ledger_keys_check_row(
        'invoice_customer_same_ledger', 'customer_id', 'ledger_customer', 'same_ledger');

-- The rows referred to stay: no DELETE, no new id or ledger.
CREATE FUNCTION ledger_row_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows are kept for the ledger''s history: DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RAISE EXCEPTION '% rows keep their id and ledger: UPDATE of the key refused', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER ledger_kept BEFORE DELETE ON ledger_ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER ledger_key_kept BEFORE UPDATE OF id ON ledger_ledger
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_row_kept();

CREATE TRIGGER paymentfile_kept BEFORE DELETE ON ledger_paymentfile
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER paymentfile_key_kept BEFORE UPDATE OF id ON ledger_paymentfile
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_row_kept();

CREATE TRIGGER account_kept BEFORE DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER account_key_kept BEFORE UPDATE OF id, ledger_id ON ledger_account
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.ledger_id IS DISTINCT FROM NEW.ledger_id)
    EXECUTE FUNCTION ledger_row_kept();

CREATE TRIGGER customer_kept BEFORE DELETE ON ledger_customer
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER customer_key_kept BEFORE UPDATE OF id, ledger_id ON ledger_customer
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.ledger_id IS DISTINCT FROM NEW.ledger_id)
    EXECUTE FUNCTION ledger_row_kept();

CREATE TRIGGER invoice_kept BEFORE DELETE ON ledger_invoice
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER invoice_key_kept BEFORE UPDATE OF id, ledger_id ON ledger_invoice
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.ledger_id IS DISTINCT FROM NEW.ledger_id)
    EXECUTE FUNCTION ledger_row_kept();

CREATE TRIGGER payment_kept BEFORE DELETE ON ledger_payment
    FOR EACH ROW EXECUTE FUNCTION ledger_row_kept();
CREATE TRIGGER payment_key_kept BEFORE UPDATE OF id, ledger_id ON ledger_payment
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.ledger_id IS DISTINCT FROM NEW.ledger_id)
    EXECUTE FUNCTION ledger_row_kept();
