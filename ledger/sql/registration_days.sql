-- The created-invoices report's daily figures (ledger.models.RegistrationDay), kept by PostgreSQL for
-- every writer of `registered` invoice events. Reverse: registration_days_reverse.sql.
--
-- Each statement adds one row per (ledger, day, actor) of the registrations it brought, with the
-- invoices' amounts (an invoice's amount never changes; credits are events of their own); nothing
-- updates a row in place, so concurrent imports never wait on each other. run_daily merges them
-- (ledger_registration_days_compact). The registration writes its rows itself and sets
-- ledger.read_models_written for its statement (ledger.bulk.read_models_written_here): the trigger then
-- stands aside.

CREATE FUNCTION ledger_registration_day_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ledger.read_models_written', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO ledger_registrationday (ledger_id, booking_date, actor, invoices, amount)
    SELECT e.ledger_id, e.booking_date, e.actor, count(*), sum(i.amount)
      FROM added_events e JOIN ledger_invoice i ON i.id = e.invoice_id
     WHERE e.kind = 'registered'
     GROUP BY 1, 2, 3;
    RETURN NULL;
END;
$$;

CREATE TRIGGER invoiceevent_registration_days
    AFTER INSERT ON ledger_invoiceevent
    REFERENCING NEW TABLE AS added_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_registration_day_add();

-- The figures computed from the events themselves (the rebuild; verify_ledger's check).
CREATE FUNCTION ledger_registration_day_sums(ledger bigint)
RETURNS TABLE (ledger_id bigint, booking_date date, actor varchar, invoices bigint, amount numeric)
LANGUAGE sql STABLE AS $$
    SELECT e.ledger_id, e.booking_date, e.actor, count(*), sum(i.amount)
      FROM ledger_invoiceevent e JOIN ledger_invoice i ON i.id = e.invoice_id
     WHERE e.ledger_id = ledger AND e.kind = 'registered'
     GROUP BY 1, 2, 3
$$;

CREATE FUNCTION ledger_registration_days_compact(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    WITH merged AS (DELETE FROM ledger_registrationday WHERE ledger_id = ledger RETURNING *)
    INSERT INTO ledger_registrationday (ledger_id, booking_date, actor, invoices, amount)
    SELECT ledger_id, booking_date, actor, sum(invoices), sum(amount) FROM merged GROUP BY 1, 2, 3;
$$;

CREATE FUNCTION ledger_registration_days_rebuild(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM ledger_registrationday WHERE ledger_id = ledger;
    INSERT INTO ledger_registrationday (ledger_id, booking_date, actor, invoices, amount)
    SELECT * FROM ledger_registration_day_sums(ledger);
$$;
