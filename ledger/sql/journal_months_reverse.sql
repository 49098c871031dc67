DROP FUNCTION ledger_summaries_rebuild(bigint);
DROP FUNCTION ledger_paid_month_sums(bigint, date, date);
DROP FUNCTION ledger_journal_month_sums(bigint, date, date);
DROP FUNCTION ledger_summaries_compact(bigint);
DROP TRIGGER invoiceevent_paid_months ON ledger_invoiceevent;
DROP FUNCTION ledger_paid_month_add();
DROP TRIGGER posting_journal_months ON ledger_posting;
DROP FUNCTION ledger_journal_month_add();
DROP FUNCTION ledger_claim_stage_rank(text);
