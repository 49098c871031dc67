-- Back to journal.sql's per-row deferred checks (forward: journal_checks.sql).
DROP TRIGGER IF EXISTS journaltransaction_has_postings ON ledger_journal_check;
DROP TRIGGER IF EXISTS posting_transaction_balanced ON ledger_journal_check;
DROP FUNCTION IF EXISTS ledger_journal_check_postings();
DROP FUNCTION IF EXISTS ledger_journal_check_balance();
DROP TRIGGER IF EXISTS journaltransaction_note_transactions ON ledger_journaltransaction;
DROP FUNCTION IF EXISTS ledger_transaction_note_transactions();
DROP TRIGGER IF EXISTS posting_note_transactions ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_posting_note_transactions();
DROP TABLE IF EXISTS ledger_journal_check;

-- As in journal.sql:
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
