"""Every write to the ledger core. Each service is one database transaction.

Modules: ledgers (onboarding), customers, journal (`journal_book`), registration (`invoices_register`,
the one batch path of every invoice), invoice_changes (close, credit, write-off, costs carried),
respite_dispute; common (the actor). The bulk COPY helpers they write with are plumbing: ledger/bulk.py.
"""
