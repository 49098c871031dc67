-- The dashboard's summaries (ledger.models.JournalMonth, PaidMonth), kept by PostgreSQL itself so that
-- every writer of postings and invoice events (the ORM, COPY in the imports) keeps them the same way.
-- Reverse: journal_months_reverse.sql.
--
-- Each INSERT or COPY statement adds its own summed rows (a statement trigger over the statement's
-- new rows); nothing updates a summary row in place, so concurrent writers never wait on each other.
-- ledger_summaries_compact merges a ledger's rows into one per key (run by run_daily);
-- ledger_summaries_rebuild recomputes them from the journal (migrations, and loads that bypass the
-- triggers). ledger_journal_month_sums and ledger_paid_month_sums compute the same sums as the
-- triggers for what a ledger booked between two days (the rebuild; the dashboard's current month).

-- How far the claim process had come with an invoice event of this kind: 1 reminder (or, for a
-- business, the late fee that replaces it), 2 collection notice, 3 collection and everything after.
CREATE FUNCTION ledger_claim_stage_rank(kind text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'reminder_sent' THEN 1
        WHEN 'late_fee_charged' THEN 1
        WHEN 'collection_notice_sent' THEN 2
        WHEN 'moved_to_collection' THEN 3
        WHEN 'call_task_created' THEN 3
        WHEN 'heavy_fee_charged' THEN 3
        WHEN 'legal_notice_sent' THEN 3
        WHEN 'legal_action_taken' THEN 3
        WHEN 'moved_to_surveillance' THEN 3
        WHEN 'handed_to_foreign_partner' THEN 3
        ELSE 0
    END
$$;

-- The summed JournalMonth rows of some postings (a statement's, or a whole ledger's).
CREATE FUNCTION ledger_journal_month_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_journalmonth (ledger_id, month, kind, overdue_from, receivable, capital,
                                     capital_postings, funds_in, funds_in_postings)
    SELECT p.ledger_id, date_trunc('month', t.booking_date)::date, t.kind,
           CASE WHEN p.component <> '' THEN i.due_date + 1 END,
           coalesce(sum(p.amount) FILTER (WHERE p.component <> ''), 0),
           coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0),
           count(*) FILTER (WHERE p.component = 'capital'),
           coalesce(sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank' AND p.amount > 0), 0),
           count(*) FILTER (WHERE a.role = 'client_funds_bank' AND p.amount > 0)
      FROM added_postings p
      JOIN ledger_journaltransaction t ON t.id = p.transaction_id
      JOIN ledger_account a ON a.id = p.account_id
      LEFT JOIN ledger_invoice i ON i.id = p.invoice_id AND p.component <> ''
     WHERE p.component <> '' OR (a.role = 'client_funds_bank' AND p.amount > 0)
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posting_journal_months
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS added_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_journal_month_add();

-- Invoices paid in full, by the highest claim stage among the invoice's events up to the payment day.
CREATE FUNCTION ledger_paid_month_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_paidmonth (ledger_id, month, stage, invoices)
    SELECT e.ledger_id, date_trunc('month', e.booking_date)::date,
           CASE reached.rank
               WHEN 0 THEN CASE WHEN e.booking_date <= i.due_date THEN 'by_due_date' ELSE 'late' END
               WHEN 1 THEN 'after_reminder'
               WHEN 2 THEN 'after_collection_notice'
               ELSE 'in_collection'
           END,
           count(*)
      FROM added_events e
      JOIN ledger_invoice i ON i.id = e.invoice_id
     CROSS JOIN LATERAL (
           SELECT coalesce(max(ledger_claim_stage_rank(s.kind)), 0) AS rank
             FROM ledger_invoiceevent s
            WHERE s.invoice_id = e.invoice_id AND s.booking_date <= e.booking_date
              AND ledger_claim_stage_rank(s.kind) > 0) reached
     WHERE e.kind = 'paid'
     GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

CREATE TRIGGER invoiceevent_paid_months
    AFTER INSERT ON ledger_invoiceevent
    REFERENCING NEW TABLE AS added_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_paid_month_add();

-- One row per key for a ledger. The rows a concurrent writer adds meanwhile are not in this
-- statement's snapshot and stay as they are; a concurrent compaction of the same ledger finds the
-- rows already deleted and adds nothing for them.
CREATE FUNCTION ledger_summaries_compact(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    WITH merged AS (DELETE FROM ledger_journalmonth WHERE ledger_id = ledger RETURNING *)
    INSERT INTO ledger_journalmonth (ledger_id, month, kind, overdue_from, receivable, capital,
                                     capital_postings, funds_in, funds_in_postings)
    SELECT ledger_id, month, kind, overdue_from, sum(receivable), sum(capital), sum(capital_postings),
           sum(funds_in), sum(funds_in_postings)
      FROM merged GROUP BY 1, 2, 3, 4;
    WITH merged AS (DELETE FROM ledger_paidmonth WHERE ledger_id = ledger RETURNING *)
    INSERT INTO ledger_paidmonth (ledger_id, month, stage, invoices)
    SELECT ledger_id, month, stage, sum(invoices) FROM merged GROUP BY 1, 2, 3;
$$;

-- The sums of ledger_journal_month_add over the postings a ledger booked from one day to another.
CREATE FUNCTION ledger_journal_month_sums(ledger bigint, booked_from date, booked_to date)
RETURNS TABLE (ledger_id bigint, month date, kind varchar, overdue_from date, receivable numeric,
               capital numeric, capital_postings bigint, funds_in numeric, funds_in_postings bigint)
LANGUAGE sql STABLE AS $$
    SELECT p.ledger_id, date_trunc('month', t.booking_date)::date, t.kind,
           CASE WHEN p.component <> '' THEN i.due_date + 1 END,
           coalesce(sum(p.amount) FILTER (WHERE p.component <> ''), 0),
           coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0),
           count(*) FILTER (WHERE p.component = 'capital'),
           coalesce(sum(p.amount) FILTER (WHERE a.role = 'client_funds_bank' AND p.amount > 0), 0),
           count(*) FILTER (WHERE a.role = 'client_funds_bank' AND p.amount > 0)
      FROM ledger_journaltransaction t
      JOIN ledger_posting p ON p.transaction_id = t.id
      JOIN ledger_account a ON a.id = p.account_id
      LEFT JOIN ledger_invoice i ON i.id = p.invoice_id AND p.component <> ''
     WHERE t.ledger_id = ledger AND t.booking_date BETWEEN booked_from AND booked_to
       AND (p.component <> '' OR (a.role = 'client_funds_bank' AND p.amount > 0))
     GROUP BY 1, 2, 3, 4
$$;

-- The sums of ledger_paid_month_add over the paid events a ledger booked from one day to another.
CREATE FUNCTION ledger_paid_month_sums(ledger bigint, paid_from date, paid_to date)
RETURNS TABLE (ledger_id bigint, month date, stage varchar, invoices bigint)
LANGUAGE sql STABLE AS $$
    SELECT e.ledger_id, date_trunc('month', e.booking_date)::date,
           CASE reached.rank
               WHEN 0 THEN CASE WHEN e.booking_date <= i.due_date THEN 'by_due_date' ELSE 'late' END
               WHEN 1 THEN 'after_reminder'
               WHEN 2 THEN 'after_collection_notice'
               ELSE 'in_collection'
           END,
           count(*)
      FROM ledger_invoiceevent e
      JOIN ledger_invoice i ON i.id = e.invoice_id
     CROSS JOIN LATERAL (
           SELECT coalesce(max(ledger_claim_stage_rank(s.kind)), 0) AS rank
             FROM ledger_invoiceevent s
            WHERE s.invoice_id = e.invoice_id AND s.booking_date <= e.booking_date
              AND ledger_claim_stage_rank(s.kind) > 0) reached
     WHERE e.ledger_id = ledger AND e.kind = 'paid' AND e.booking_date BETWEEN paid_from AND paid_to
     GROUP BY 1, 2, 3
$$;

-- Both summaries of a ledger recomputed from the journal and the invoice events.
CREATE FUNCTION ledger_summaries_rebuild(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM ledger_journalmonth WHERE ledger_id = ledger;
    INSERT INTO ledger_journalmonth (ledger_id, month, kind, overdue_from, receivable, capital,
                                     capital_postings, funds_in, funds_in_postings)
    SELECT * FROM ledger_journal_month_sums(ledger, '-infinity', 'infinity');
    DELETE FROM ledger_paidmonth WHERE ledger_id = ledger;
    INSERT INTO ledger_paidmonth (ledger_id, month, stage, invoices)
    SELECT * FROM ledger_paid_month_sums(ledger, '-infinity', 'infinity');
$$;
