ALTER TABLE ledger_customerevent DROP CONSTRAINT IF EXISTS customerevent_customer_same_ledger;
ALTER TABLE ledger_payment
    DROP CONSTRAINT IF EXISTS payment_customer_same_ledger,
    DROP CONSTRAINT IF EXISTS payment_invoice_same_ledger;
ALTER TABLE ledger_invoiceevent
    DROP CONSTRAINT IF EXISTS invoiceevent_transaction_same_ledger,
    DROP CONSTRAINT IF EXISTS invoiceevent_invoice_same_ledger;
ALTER TABLE ledger_journaltransaction
    DROP CONSTRAINT IF EXISTS journaltransaction_payment_same_ledger,
    DROP CONSTRAINT IF EXISTS journaltransaction_invoice_same_ledger;
