-- A statutory figure has one value per day (and claim-size band): periods of the same figure never overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE claims_statutoryfigure
    ADD CONSTRAINT figure_periods_do_not_overlap EXCLUDE USING gist (
        country WITH =,
        kind WITH =,
        numrange(claim_above, claim_up_to, '(]') WITH &&,
        daterange(valid_from, valid_to, '[]') WITH &&
    );
