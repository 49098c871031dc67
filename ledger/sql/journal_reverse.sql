DROP TRIGGER IF EXISTS journaltransaction_append_only ON ledger_journaltransaction;
DROP TRIGGER IF EXISTS posting_append_only ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_journal_append_only();
DROP TRIGGER IF EXISTS journaltransaction_has_postings ON ledger_journaltransaction;
DROP FUNCTION IF EXISTS ledger_transaction_has_postings_check();
DROP TRIGGER IF EXISTS posting_transaction_balanced ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_posting_balance_check();
ALTER TABLE ledger_invoice DROP CONSTRAINT IF EXISTS invoice_customer_same_ledger;
ALTER TABLE ledger_posting
    DROP CONSTRAINT IF EXISTS posting_payment_same_ledger,
    DROP CONSTRAINT IF EXISTS posting_customer_same_ledger,
    DROP CONSTRAINT IF EXISTS posting_invoice_same_ledger,
    DROP CONSTRAINT IF EXISTS posting_account_same_ledger,
    DROP CONSTRAINT IF EXISTS posting_transaction_same_ledger;
ALTER TABLE ledger_payment DROP CONSTRAINT IF EXISTS payment_id_ledger_unique;
ALTER TABLE ledger_customer DROP CONSTRAINT IF EXISTS customer_id_ledger_unique;
ALTER TABLE ledger_invoice DROP CONSTRAINT IF EXISTS invoice_id_ledger_unique;
ALTER TABLE ledger_account DROP CONSTRAINT IF EXISTS account_id_ledger_unique;
ALTER TABLE ledger_journaltransaction DROP CONSTRAINT IF EXISTS journaltransaction_id_ledger_unique;
