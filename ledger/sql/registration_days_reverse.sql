DROP FUNCTION IF EXISTS ledger_registration_days_rebuild(bigint);
DROP FUNCTION IF EXISTS ledger_registration_days_compact(bigint);
DROP FUNCTION IF EXISTS ledger_registration_day_sums(bigint);
DROP TRIGGER IF EXISTS invoiceevent_registration_days ON ledger_invoiceevent;
DROP FUNCTION IF EXISTS ledger_registration_day_add();
