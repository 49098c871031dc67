-- The definitions of journal_months.sql again (reverse of journal_months_probes.sql).

CREATE OR REPLACE FUNCTION ledger_journal_month_add() RETURNS trigger
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

CREATE OR REPLACE FUNCTION ledger_paid_month_add() RETURNS trigger
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
