"""Reports as of a date: selectors over the journal (what was true on that date) and CSV/XLSX exports.

Every report gives what was true on its date: the as-of reports read the invoices' open-amount versions
holding the date (ledger.models.OpenVersion, kept beside the journal and checked against it by
verify_ledger), the others the postings and events of their period, so the ledger report equals the
receivable accounts' balance on that date. `report_for_user` is the entry that scopes by the user.

Each report is first a `ReportQuery` (its SQL with a total order, its parameters and its columns), so
the same definition gives its count and totals, one page (by keyset or OFFSET: the UI never loads a
whole report) and a row iterator over a server-side cursor (the downloads stream, whatever the size). The functions named
after the reports (`aging`, `ledger_report`, ...) run the whole query and return a `Report`.

Modules: core (queries, pages, rows), receivables, monthly, payments, invoices, catalogue
(`report_for_user`), downloads.
"""
