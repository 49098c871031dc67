-- The closed open-amount versions found by a btree on (ledger, valid_to) instead of a GiST on the range.
-- Reverse: open_versions_closed_btree_reverse.sql.
--
-- Every payment closes its invoice's version (open_versions.sql), and each closed version gets an entry
-- in this index: a GiST insert chooses its subtree by penalty over the whole tree, a btree entry ending
-- today lands on the rightmost leaf pages, already in memory. Closing 25,000 versions of a table of
-- 1,200,000: GiST 763 ms, btree 150 ms (the payment import's read models cost 3.1 of 5.0 s in the
-- versions' trigger, bench_import_payments.py, issue 26). The price is on the reader: the versions
-- holding a day D are found among those closed after D (valid_to > D, then valid_from <= D from the
-- index's own columns), a scan of the versions closed since D instead of only the ones holding it:
-- 158,000 index entries for a day a year back, 55-70 ms, still an index-only scan.
DROP INDEX openversion_closed_idx;
CREATE INDEX openversion_closed_idx ON ledger_openversion (ledger_id, valid_to)
    INCLUDE (valid_from, invoice_id, customer_id, due_date, capital, fees, interest, paid, open)
    WHERE valid_to IS NOT NULL AND open <> 0;
