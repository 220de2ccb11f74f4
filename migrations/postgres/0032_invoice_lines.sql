-- 0032: invoices with several lines (docs/web.md, "Invoices"): one payment settles a sale
-- of several things, possibly at several VAT rates (a restaurant's meal at 10 % and its
-- wine at 20 %). Each line has its description, rate and amount tax included, split into
-- net and VAT as a one-line invoice is; the lines add up to the payment.
--
-- An invoice of one line keeps it in its own columns, as before (`line_count` 1, no row
-- here). An invoice of several keeps them here, numbered from 1; its own columns then hold
-- the first line's description and rate and the sums of the net, VAT and total. Both
-- tables are append-only: an invoice is never changed.
ALTER TABLE invoices ADD COLUMN line_count BIGINT NOT NULL DEFAULT 1
    CHECK (line_count BETWEEN 1 AND 20);

CREATE TABLE invoice_lines (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    line_no BIGINT NOT NULL CHECK (line_no BETWEEN 1 AND 20),
    description TEXT NOT NULL CHECK (char_length(description) BETWEEN 1 AND 500),
    vat_bp BIGINT NOT NULL CHECK (vat_bp BETWEEN 0 AND 10000),
    total BIGINT NOT NULL CHECK (total > 0),
    net BIGINT NOT NULL CHECK (net >= 0),
    vat BIGINT NOT NULL CHECK (vat >= 0),
    CHECK (net + vat = total),
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TRIGGER invoice_lines_append_only BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION troc_append_only();
