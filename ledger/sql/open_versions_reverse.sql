DROP FUNCTION IF EXISTS ledger_open_versions_rebuild(bigint);
DROP FUNCTION IF EXISTS ledger_open_version_sums(bigint);
DROP INDEX IF EXISTS openversion_closed_idx;
DROP INDEX IF EXISTS openversion_current_idx;
DROP TRIGGER IF EXISTS posting_open_versions ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_open_version_add();
DROP FUNCTION IF EXISTS ledger_open_versions_apply(date, bigint[], bigint[], numeric[], numeric[], numeric[], numeric[], numeric[]);
