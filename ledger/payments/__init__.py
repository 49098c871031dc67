"""Payments: bank files in, matching and allocation, payouts, direct debit and the operator's corrections.

A bank file is checked whole first (the parsers in ledger.bankfiles check record counts, control
totals, dates and amounts); a file that fails is rejected whole and books nothing. An accepted file is
booked in one database transaction: each payment is one PAYMENT journal transaction that brings the
money in on the client-funds account and places it, in the same transaction, on the matched invoice
(in the ledger's allocation order), on the customer's credit balance (surplus) or on suspense
(unidentified). Files (by digest) and payments (by bank archive reference) are booked at most once.

Booking a file is two phases: `_plan` decides everything in memory from a few set-based queries
(invoices by reference, their balances, archive references already booked), then `_write` writes it
set-based: ids reserved up front, the Payment, journal transaction, posting and invoice-event rows
written with COPY, and the invoices the file settles closed with one UPDATE.

Operator services (each one database transaction, recorded with who and why as a PaymentEvent):
`payment_allocate`, `payment_refund`, `customer_credit_move`, `customer_credit_refund`,
`payment_reverse`, `payment_move_to_ledger`.

Modules: bank_import (files in), matching (deciding), booking (writing), placement (within an
invoice), allocation / refunds / reversal (operator services, sharing guards), selectors, payouts,
inbox (the bank inbox), bankfiles/ (parsers and writers), direct_debit (AvtaleGiro, Autogiro,
Betalingsservice).
"""
