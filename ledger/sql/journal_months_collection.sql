-- Money in counts on both client-funds accounts: the collection one (payments for claims in collection,
-- ledger migration 0039) as the ordinary one. The dashboard's "payments received" reads funds_in of the
-- payment transactions; the settlement's transfer between the two accounts is no payment and stays out.
-- Reverse: journal_months_collection_reverse.sql (the functions as journal_months_probes.sql and
-- journal_months.sql left them). No summary row needs rebuilding: no posting was on the collection
-- account before this migration.

CREATE OR REPLACE FUNCTION ledger_journal_month_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ledger.read_models_written', true) = 'on' THEN
        RETURN NULL;  -- the statement's writer keeps the read models itself (ledger.bulk.read_models_written_here)
    END IF;
    INSERT INTO ledger_journalmonth (ledger_id, month, kind, overdue_from, receivable, capital,
                                     capital_postings, funds_in, funds_in_postings)
    SELECT p.ledger_id, date_trunc('month', t.booking_date)::date, t.kind,
           CASE WHEN p.component <> '' THEN
               (SELECT i.due_date FROM ledger_invoice i WHERE i.id = p.invoice_id) + 1 END,
           coalesce(sum(p.amount) FILTER (WHERE p.component <> ''), 0),
           coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0),
           count(*) FILTER (WHERE p.component = 'capital'),
           coalesce(sum(p.amount) FILTER (WHERE a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0), 0),
           count(*) FILTER (WHERE a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0)
      FROM added_postings p
     CROSS JOIN LATERAL (SELECT t.booking_date, t.kind FROM ledger_journaltransaction t
                          WHERE t.id = p.transaction_id OFFSET 0) t
      JOIN ledger_account a ON a.id = p.account_id
     WHERE p.component <> '' OR (a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0)
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION ledger_journal_month_sums(ledger bigint, booked_from date, booked_to date)
RETURNS TABLE (ledger_id bigint, month date, kind varchar, overdue_from date, receivable numeric,
               capital numeric, capital_postings bigint, funds_in numeric, funds_in_postings bigint)
LANGUAGE sql STABLE AS $$
    SELECT p.ledger_id, date_trunc('month', t.booking_date)::date, t.kind,
           CASE WHEN p.component <> '' THEN i.due_date + 1 END,
           coalesce(sum(p.amount) FILTER (WHERE p.component <> ''), 0),
           coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0),
           count(*) FILTER (WHERE p.component = 'capital'),
           coalesce(sum(p.amount) FILTER (WHERE a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0), 0),
           count(*) FILTER (WHERE a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0)
      FROM ledger_journaltransaction t
      JOIN ledger_posting p ON p.transaction_id = t.id
      JOIN ledger_account a ON a.id = p.account_id
      LEFT JOIN ledger_invoice i ON i.id = p.invoice_id AND p.component <> ''
     WHERE t.ledger_id = ledger AND t.booking_date BETWEEN booked_from AND booked_to
       AND (p.component <> '' OR (a.role IN ('client_funds_bank', 'collection_funds_bank') AND p.amount > 0))
     GROUP BY 1, 2, 3, 4
$$;
