DROP TRIGGER IF EXISTS actionlog_append_only ON ledger_actionlogentry;
DROP FUNCTION IF EXISTS ledger_action_log_append_only();
