-- The monthly accounting report's figures and its day-by-day reconciliation (ledger.models.AccountDay),
-- kept by PostgreSQL for every writer of postings. Reverse: account_days_reverse.sql.
--
-- Each statement adds one row per (ledger, booking day, account, action) of the postings it brought,
-- the transaction read by a primary-key probe per posting (OFFSET 0 keeps it one; see
-- journal_months_probes.sql), the reversed transaction's kind only for a reversal. Nothing updates a
-- row in place: concurrent writers never wait on each other; run_daily merges them
-- (ledger_account_days_compact). A writer that keeps the summaries itself (the invoice registration)
-- sets ledger.read_models_written for its statement, and the trigger stands aside.

-- The accounting action of a posting, as the Accounting Detail names it: the transaction's kind, or
-- the reversed transaction's kind with `_reversal` for a reversal.
CREATE FUNCTION ledger_posting_action(kind text, reversed_kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN reversed_kind IS NULL THEN kind ELSE reversed_kind || '_reversal' END
$$;

CREATE FUNCTION ledger_account_day_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ledger.read_models_written', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_accountday (ledger_id, booking_date, account_id, action, postings, debit, credit)
    SELECT p.ledger_id, t.booking_date, p.account_id,
           ledger_posting_action(t.kind, CASE WHEN t.reverses_id IS NOT NULL THEN
               (SELECT r.kind FROM ledger_journaltransaction r WHERE r.id = t.reverses_id) END),
           count(*),
           coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
           coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)
      FROM added_postings p
     CROSS JOIN LATERAL (SELECT t.booking_date, t.kind, t.reverses_id FROM ledger_journaltransaction t
                          WHERE t.id = p.transaction_id OFFSET 0) t
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posting_account_days
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS added_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_account_day_add();

-- The figures computed from the journal itself (the rebuild; verify_ledger's check).
CREATE FUNCTION ledger_account_day_sums(ledger bigint)
RETURNS TABLE (ledger_id bigint, booking_date date, account_id bigint, action text, postings bigint,
               debit numeric, credit numeric)
LANGUAGE sql STABLE AS $$
    SELECT p.ledger_id, t.booking_date, p.account_id, ledger_posting_action(t.kind, rt.kind), count(*),
           coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
           coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)
      FROM ledger_posting p
      JOIN ledger_journaltransaction t ON t.id = p.transaction_id
      LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
     WHERE p.ledger_id = ledger
     GROUP BY 1, 2, 3, 4
$$;

CREATE FUNCTION ledger_account_days_compact(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    WITH merged AS (DELETE FROM ledger_accountday WHERE ledger_id = ledger RETURNING *)
    INSERT INTO ledger_accountday (ledger_id, booking_date, account_id, action, postings, debit, credit)
    SELECT ledger_id, booking_date, account_id, action, sum(postings), sum(debit), sum(credit)
      FROM merged GROUP BY 1, 2, 3, 4;
$$;

CREATE FUNCTION ledger_account_days_rebuild(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM ledger_accountday WHERE ledger_id = ledger;
    INSERT INTO ledger_accountday (ledger_id, booking_date, account_id, action, postings, debit, credit)
    SELECT * FROM ledger_account_day_sums(ledger);
$$;
