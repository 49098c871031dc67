-- The dashboard's channel mix (distribution.models.DocumentMonth), kept by PostgreSQL itself for every
-- writer of documents. Reverse: document_months_reverse.sql.
--
-- A document counts once it has left (or, for paper, is archived and waits for the print batch that
-- goes the same day); queued, failed and cancelled ones went nowhere (yet). Each statement adds one row
-- per (ledger, month, channel) of what it changed; nothing updates a summary row in place, so
-- concurrent senders never wait on each other. Transition tables cannot be limited to some columns, so
-- every UPDATE of documents passes here; one that changes no status, channel or day adds nothing.

CREATE FUNCTION distribution_document_counts(status text, channel text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT channel <> '' AND status IN ('sent', 'awaiting_print', 'archived', 'returned')
$$;

CREATE FUNCTION distribution_document_month_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO distribution_documentmonth (ledger_id, month, channel, documents)
        SELECT ledger_id, date_trunc('month', booking_date)::date, channel, count(*)
          FROM added_documents WHERE distribution_document_counts(status, channel)
         GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO distribution_documentmonth (ledger_id, month, channel, documents)
        SELECT ledger_id, month, channel, sum(n) FROM (
            SELECT ledger_id, date_trunc('month', booking_date)::date AS month, channel, 1 AS n
              FROM added_documents WHERE distribution_document_counts(status, channel)
            UNION ALL
            SELECT ledger_id, date_trunc('month', booking_date)::date, channel, -1
              FROM removed_documents WHERE distribution_document_counts(status, channel)
        ) changed
         GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    ELSE
        INSERT INTO distribution_documentmonth (ledger_id, month, channel, documents)
        SELECT ledger_id, date_trunc('month', booking_date)::date, channel, -count(*)
          FROM removed_documents WHERE distribution_document_counts(status, channel)
         GROUP BY 1, 2, 3;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER document_months_insert
    AFTER INSERT ON distribution_document
    REFERENCING NEW TABLE AS added_documents
    FOR EACH STATEMENT EXECUTE FUNCTION distribution_document_month_add();

CREATE TRIGGER document_months_update
    AFTER UPDATE ON distribution_document
    REFERENCING OLD TABLE AS removed_documents NEW TABLE AS added_documents
    FOR EACH STATEMENT EXECUTE FUNCTION distribution_document_month_add();

CREATE TRIGGER document_months_delete
    AFTER DELETE ON distribution_document
    REFERENCING OLD TABLE AS removed_documents
    FOR EACH STATEMENT EXECUTE FUNCTION distribution_document_month_add();

-- The counts computed from the documents themselves (the rebuild; verify_ledger's check).
CREATE FUNCTION distribution_document_month_sums(ledger bigint)
RETURNS TABLE (ledger_id bigint, month date, channel varchar, documents bigint)
LANGUAGE sql STABLE AS $$
    SELECT d.ledger_id, date_trunc('month', d.booking_date)::date, d.channel, count(*)
      FROM distribution_document d
     WHERE d.ledger_id = ledger AND distribution_document_counts(d.status, d.channel)
     GROUP BY 1, 2, 3
$$;

CREATE FUNCTION distribution_document_months_compact(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    WITH merged AS (DELETE FROM distribution_documentmonth WHERE ledger_id = ledger RETURNING *)
    INSERT INTO distribution_documentmonth (ledger_id, month, channel, documents)
    SELECT ledger_id, month, channel, sum(documents) FROM merged GROUP BY 1, 2, 3 HAVING sum(documents) <> 0;
$$;

CREATE FUNCTION distribution_document_months_rebuild(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM distribution_documentmonth WHERE ledger_id = ledger;
    INSERT INTO distribution_documentmonth (ledger_id, month, channel, documents)
    SELECT * FROM distribution_document_month_sums(ledger);
$$;
