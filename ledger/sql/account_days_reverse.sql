DROP FUNCTION IF EXISTS ledger_account_days_rebuild(bigint);
DROP FUNCTION IF EXISTS ledger_account_days_compact(bigint);
DROP FUNCTION IF EXISTS ledger_account_day_sums(bigint);
DROP TRIGGER IF EXISTS posting_account_days ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_account_day_add();
DROP FUNCTION IF EXISTS ledger_posting_action(text, text);
