ALTER TABLE distribution_document
    DROP CONSTRAINT document_customer_same_ledger,
    DROP CONSTRAINT document_invoice_same_ledger,
    DROP CONSTRAINT document_ledger_fk;
