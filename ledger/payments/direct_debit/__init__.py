"""Direct debit: consents from the bank's agreement files, payment claims to the bank, and their outcome.

Consents (`CustomerConsent`) come from two places: CUSIN payment rules (`customers_upsert`, "verified
payment") and the bank's agreement files, read here. Norway (AvtaleGiro) is supported end to end:

- `debit_agreements_import` books an AvtaleGiro agreement transmission from Nets (service code 21,
  assignment type 24; read with `netsgiro`): each agreement's KID names a customer, whose AvtaleGiro
  consent is activated, cancelled or changed (the payer's notification flag), with a customer event.
  Unknown KIDs are listed as errors, the rest is booked; a file is booked at most once (by digest).
- `debit_claims_send` claims the open invoices of consenting customers that fall due within the
  next `days_ahead` days (and retries failed ones) with one conditional INSERT of attempts, builds
  the AvtaleGiro payment-claim transmission (service code 21, assignment type 00) with `netsgiro`,
  reads it back to check it, and writes it atomically to the ledger's outbox, all in one database
  transaction: if anything fails, no attempt is recorded and no file is left behind.
- `debit_attempts_settle` marks sent attempts paid (nothing open on the invoice any more) or failed
  (still open two days after the debit date). A failed attempt is retried by the next
  `debit_claims_send`, up to DIRECT_DEBIT_MAX_ATTEMPTS; after the last failure the invoice is left to
  the reminder process, and an invoice event says so.

Sweden (Autogiro, Bankgirot) and Denmark (Betalingsservice, Nets) run through the same functions; the
ledger's country picks the scheme (SCHEMES). Their files are read and written by our own small modules,
`ledger.payments.bankfiles.autogiro` and `ledger.payments.bankfiles.betalingsservice` (layouts and sources in their
docstrings):

- Autogiro consents are keyed by the payer number Bankgirot knows (the customer's national id, RegNo);
  Betalingsservice consents by customer number. `debit_agreements_import` also reads Bankgirot's
  mandate notices (TK73) and Nets' agreement records (BS042 0230-0234), and the debits' outcome:
  Bankgirot's payment specification (TK82 with a result code) and Nets' payment information (BS042
  0236-0238). A failed debit fails its attempt at once (retried by the usual rule); an approved one waits
  for its money, booked from the bank's payment file like any payment, and then settles as paid.
- `debit_claims_cancel` cancels claims whose invoice was paid, credited or written off before the debit
  date: an AvtaleGiro cancellation transmission (transaction type 93) or Autogiro TK23 records, once
  per claim. Betalingsservice claims are not cancelled (reported).

Modules: common (settings, errors, KIDs, the claim record), avtalegiro, autogiro, betalingsservice
(one scheme each), claims (claims out), settlement (outcome and cancelling), scheme_files (Bankgirot's
and Nets' agreement and result files), selectors.
"""
