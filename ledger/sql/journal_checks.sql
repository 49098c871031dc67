-- The journal's deferred checks, set-based (reverse: journal_checks_reverse.sql).
--
-- journal.sql checked each posting's transaction balance, and each transaction's postings, with one
-- deferred trigger firing per inserted row: a 100,000-payment file made 300,000 firings at commit,
-- each a query of its own. Here each INSERT statement into ledger_posting or ledger_journaltransaction
-- notes the transactions it touched in one row of ledger_journal_check (a statement-level trigger
-- reading its transition table), and the deferred constraint triggers, still named
-- posting_transaction_balanced and journaltransaction_has_postings, check that row's transactions
-- in one query at commit (or at SET CONSTRAINTS ... IMMEDIATE) and remove it. What is checked, and
-- when, is unchanged.

DROP TRIGGER IF EXISTS posting_transaction_balanced ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_posting_balance_check();
DROP TRIGGER IF EXISTS journaltransaction_has_postings ON ledger_journaltransaction;
DROP FUNCTION IF EXISTS ledger_transaction_has_postings_check();

-- Rows live only inside the database transaction that wrote them (the check removes its row), so the
-- table is unlogged: nothing of it needs to survive a crash.
CREATE UNLOGGED TABLE ledger_journal_check (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('balance', 'postings')),
    transaction_ids bigint[] NOT NULL
);

CREATE FUNCTION ledger_posting_note_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_journal_check (kind, transaction_ids)
    SELECT 'balance', array_agg(DISTINCT transaction_id) FROM new_postings HAVING count(*) > 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posting_note_transactions
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_posting_note_transactions();

CREATE FUNCTION ledger_transaction_note_transactions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_journal_check (kind, transaction_ids)
    SELECT 'postings', array_agg(id) FROM new_transactions HAVING count(*) > 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER journaltransaction_note_transactions
    AFTER INSERT ON ledger_journaltransaction
    REFERENCING NEW TABLE AS new_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transaction_note_transactions();

-- The postings of a transaction sum to zero per currency.
CREATE FUNCTION ledger_journal_check_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT p.transaction_id, p.currency, sum(p.amount) AS total INTO off
      FROM unnest(NEW.transaction_ids) AS t(id)
      JOIN ledger_posting AS p ON p.transaction_id = t.id
     GROUP BY p.transaction_id, p.currency
    HAVING sum(p.amount) <> 0;  -- no LIMIT: it would make the planner bet on an early stop (a nested
                                -- loop rescanning the array per posting), and nothing stops early here
    IF FOUND THEN
        RAISE EXCEPTION 'journal transaction % does not balance: postings sum to % %',
            off.transaction_id, off.total, off.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'posting_transaction_balanced';
    END IF;
    DELETE FROM ledger_journal_check WHERE id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER posting_transaction_balanced
    AFTER INSERT ON ledger_journal_check
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind = 'balance') EXECUTE FUNCTION ledger_journal_check_balance();

-- A transaction without postings is not a booking.
CREATE FUNCTION ledger_journal_check_postings() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT t.id INTO missing
      FROM unnest(NEW.transaction_ids) AS t(id)
     WHERE NOT EXISTS (SELECT 1 FROM ledger_posting AS p WHERE p.transaction_id = t.id);  -- no LIMIT, as above
    IF FOUND THEN
        RAISE EXCEPTION 'journal transaction % has no postings', missing
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journaltransaction_has_postings';
    END IF;
    DELETE FROM ledger_journal_check WHERE id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER journaltransaction_has_postings
    AFTER INSERT ON ledger_journal_check
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind = 'postings') EXECUTE FUNCTION ledger_journal_check_postings();
