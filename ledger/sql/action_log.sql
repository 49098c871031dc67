-- The action log (ledger.models.ActionLogEntry) is append-only: a row, once written, is never changed or
-- removed, whoever asks (issue 29: what banks' security reviews ask of an audit trail).
-- Reverse: action_log_reverse.sql. TRUNCATE stays the table owner's, as for the journal (journal.sql):
-- the tests' database flush needs it, and the application's role should not own its tables.
CREATE FUNCTION ledger_action_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_actionlogentry is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER actionlog_append_only
    BEFORE UPDATE OR DELETE ON ledger_actionlogentry
    FOR EACH ROW EXECUTE FUNCTION ledger_action_log_append_only();
