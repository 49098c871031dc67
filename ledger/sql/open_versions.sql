-- The invoices' open-amount versions (ledger.models.OpenVersion), kept by PostgreSQL itself so that
-- every writer of postings (the ORM, COPY in the imports) keeps them the same way.
-- Reverse: open_versions_reverse.sql.
--
-- A version holds an invoice's components from valid_from up to (not including) valid_to, NULL while
-- it still holds. A statement's component postings booked on day D change, per invoice: the version
-- holding D ends at D and a new one starts there with the postings added; versions starting on or
-- after D (postings booked back in time, or earlier in the same day) get the postings added too. In the
-- usual case (postings booked on the business day) that is one closed version and one new row per
-- invoice; a new invoice is one new row.
--
-- Two transactions booking on one invoice at once would both close its version; the writers lock the
-- invoice row first (the payment import, the claim process, the services), and were one not to, the
-- second would fail on the primary key (invoice, valid_from) rather than leave a wrong version.

-- the GiST index below holds the ledger (a bigint) beside the range
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- What some postings booked on one day bring to each invoice's versions, given as arrays (one entry
-- per invoice): the version holding the day ends there and a new one starts with the amounts added;
-- versions starting on or after the day (a booking back in time, or an earlier one the same day) get
-- them added. The trigger below calls it with what a statement's postings sum to, per day.
CREATE FUNCTION ledger_open_versions_apply(
    day date, invoice_ids bigint[], ledger_ids bigint[], capitals numeric[], fees_ numeric[],
    interests numeric[], paids numeric[], opens numeric[]
) RETURNS void
LANGUAGE sql AS $$
    WITH delta AS MATERIALIZED (
        SELECT * FROM unnest(invoice_ids, ledger_ids, capitals, fees_, interests, paids, opens)
                   AS d(invoice_id, ledger_id, capital, fees, interest, paid, open)
    ), holding AS MATERIALIZED (
        -- per invoice: the version holding the day, and where the first version after it starts (the
        -- end of the one holding it: the versions follow each other without a gap; with none before
        -- the day, the first of the invoice's, if any)
        SELECT d.*, v.valid_from AS version_from,
               v.capital AS version_capital, v.fees AS version_fees, v.interest AS version_interest,
               v.paid AS version_paid, v.open AS version_open,
               coalesce(v.customer_id, i.customer_id) AS customer_id, coalesce(v.due_date, i.due_date) AS due_date,
               CASE WHEN v.valid_from IS NOT NULL THEN v.valid_to
                    ELSE (SELECT min(n.valid_from) FROM ledger_openversion n WHERE n.invoice_id = d.invoice_id)
               END AS later_from
          FROM delta d
          LEFT JOIN LATERAL (
               SELECT * FROM ledger_openversion v
                WHERE v.invoice_id = d.invoice_id AND v.valid_from < day
                ORDER BY v.valid_from DESC LIMIT 1) v ON true
          -- the invoice's customer and due date, read only for an invoice without a version before
          LEFT JOIN LATERAL (
               SELECT i.customer_id, i.due_date FROM ledger_invoice i
                WHERE v.valid_from IS NULL AND i.id = d.invoice_id OFFSET 0) i ON true
    ), closed AS (
        -- (the planner sees unnest's guess of a few rows and probes the primary key per invoice)
        UPDATE ledger_openversion v SET valid_to = day
          FROM holding h
         WHERE v.invoice_id = h.invoice_id AND v.valid_from = h.version_from
           AND (v.valid_to IS NULL OR v.valid_to > day)
    ), later AS (
        UPDATE ledger_openversion v
           SET capital = v.capital + h.capital, fees = v.fees + h.fees, interest = v.interest + h.interest,
               paid = v.paid + h.paid, open = v.open + h.open
          FROM (SELECT * FROM holding WHERE later_from IS NOT NULL) h
         WHERE v.invoice_id = h.invoice_id AND v.valid_from >= h.later_from  -- (>= day: a range of the key)
    )
    INSERT INTO ledger_openversion (ledger_id, invoice_id, customer_id, due_date, valid_from, valid_to,
                                    capital, fees, interest, paid, open)
    SELECT h.ledger_id, h.invoice_id, h.customer_id, h.due_date, day, h.later_from,
           coalesce(h.version_capital, 0) + h.capital, coalesce(h.version_fees, 0) + h.fees,
           coalesce(h.version_interest, 0) + h.interest, coalesce(h.version_paid, 0) + h.paid,
           coalesce(h.version_open, 0) + h.open
      FROM holding h
     WHERE h.later_from IS DISTINCT FROM day;  -- a version starting that day got the amounts added
$$;

-- Per booking day of the statement's component postings (usually one), what they bring per invoice:
-- by component, what payments brought (net of their reversals), and the whole.
CREATE FUNCTION ledger_open_version_add() RETURNS trigger
LANGUAGE plpgsql
SET work_mem = '64MB'  -- a 10,000-invoice statement's sums stay in memory
AS $$
DECLARE
    day date;
BEGIN
    IF current_setting('ledger.read_models_written', true) = 'on' THEN
        RETURN NULL;  -- the statement's writer keeps the read models itself (ledger.bulk.read_models_written_here)
    END IF;
    -- The statement's booking days: those of the transactions in the range of its postings' (a range
    -- of the primary key, not a join; a day of another writer's transaction in between adds nothing).
    FOR day IN
        SELECT DISTINCT t.booking_date FROM ledger_journaltransaction t
         WHERE t.id BETWEEN (SELECT min(transaction_id) FROM added_postings WHERE component <> '')
                        AND (SELECT max(transaction_id) FROM added_postings WHERE component <> '')
         ORDER BY 1
    LOOP
        PERFORM ledger_open_versions_apply(day, array_agg(invoice_id), array_agg(ledger_id),
                                           array_agg(capital), array_agg(fees), array_agg(interest),
                                           array_agg(paid), array_agg(open))
          FROM (
            SELECT p.invoice_id, min(p.ledger_id) AS ledger_id,
                   coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0) AS capital,
                   coalesce(sum(p.amount) FILTER (WHERE p.component = 'fee'), 0) AS fees,
                   coalesce(sum(p.amount) FILTER (WHERE p.component = 'interest'), 0) AS interest,
                   coalesce(-sum(p.amount) FILTER (WHERE t.kind IN ('payment', 'allocation')), 0) AS paid,
                   sum(p.amount) AS open
              FROM added_postings p
             -- one probe of the primary key per posting (OFFSET 0 keeps the planner from hashing the
             -- whole journal for a statement of a few rows); a reversal counts as what it reverses
             CROSS JOIN LATERAL (
                   SELECT t.booking_date,
                          CASE WHEN t.reverses_id IS NULL THEN t.kind
                               ELSE (SELECT r.kind FROM ledger_journaltransaction r WHERE r.id = t.reverses_id)
                          END AS kind
                     FROM ledger_journaltransaction t WHERE t.id = p.transaction_id OFFSET 0) t
             WHERE p.component <> '' AND t.booking_date = day
             GROUP BY p.invoice_id
          ) delta
        HAVING count(*) > 0;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER posting_open_versions
    AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS added_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_open_version_add();

-- The items open on a day, from two partial indexes: the versions that still hold (a btree: cheap for
-- the registration that adds one per invoice), and the closed ones by their range (GiST: finds those
-- holding a day without reading the rest of the history). A version closes by an UPDATE, which adds it
-- to the second.
CREATE INDEX openversion_current_idx ON ledger_openversion (ledger_id, valid_from)
    WHERE valid_to IS NULL AND open <> 0;
CREATE INDEX openversion_closed_idx ON ledger_openversion
    USING gist (ledger_id, daterange(valid_from, valid_to)) WHERE valid_to IS NOT NULL AND open <> 0;

-- A ledger's versions computed from the journal: one per invoice and booking day with component
-- postings, the running sums up to that day, held until the invoice's next such day.
CREATE FUNCTION ledger_open_version_sums(ledger bigint)
RETURNS TABLE (ledger_id bigint, invoice_id bigint, customer_id bigint, due_date date, valid_from date,
               valid_to date, capital numeric, fees numeric, interest numeric, paid numeric, open numeric)
LANGUAGE sql STABLE AS $$
    WITH daily AS (
        SELECT p.invoice_id, t.booking_date AS day,
               coalesce(sum(p.amount) FILTER (WHERE p.component = 'capital'), 0) AS capital,
               coalesce(sum(p.amount) FILTER (WHERE p.component = 'fee'), 0) AS fees,
               coalesce(sum(p.amount) FILTER (WHERE p.component = 'interest'), 0) AS interest,
               coalesce(-sum(p.amount) FILTER (
                   WHERE coalesce(rt.kind, t.kind) IN ('payment', 'allocation')), 0) AS paid,
               sum(p.amount) AS open
          FROM ledger_posting p
          JOIN ledger_journaltransaction t ON t.id = p.transaction_id
          LEFT JOIN ledger_journaltransaction rt ON rt.id = t.reverses_id
         WHERE p.ledger_id = ledger AND p.component <> ''
         GROUP BY 1, 2
    )
    SELECT ledger, daily.invoice_id, i.customer_id, i.due_date, day, lead(day) OVER w,
           (sum(capital) OVER w)::numeric(18, 2), (sum(fees) OVER w)::numeric(18, 2),
           (sum(interest) OVER w)::numeric(18, 2), (sum(paid) OVER w)::numeric(18, 2),
           (sum(open) OVER w)::numeric(18, 2)
      FROM daily JOIN ledger_invoice i ON i.id = daily.invoice_id
    WINDOW w AS (PARTITION BY daily.invoice_id ORDER BY day)
$$;

CREATE FUNCTION ledger_open_versions_rebuild(ledger bigint) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM ledger_openversion WHERE ledger_id = ledger;
    INSERT INTO ledger_openversion (ledger_id, invoice_id, customer_id, due_date, valid_from, valid_to,
                                    capital, fees, interest, paid, open)
    SELECT * FROM ledger_open_version_sums(ledger);
$$;
