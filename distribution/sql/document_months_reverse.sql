DROP FUNCTION IF EXISTS distribution_document_months_rebuild(bigint);
DROP FUNCTION IF EXISTS distribution_document_months_compact(bigint);
DROP FUNCTION IF EXISTS distribution_document_month_sums(bigint);
DROP TRIGGER IF EXISTS document_months_delete ON distribution_document;
DROP TRIGGER IF EXISTS document_months_update ON distribution_document;
DROP TRIGGER IF EXISTS document_months_insert ON distribution_document;
DROP FUNCTION IF EXISTS distribution_document_month_add();
DROP FUNCTION IF EXISTS distribution_document_counts(text, text);
