-- 0031: what an invoice sold: goods, services or both (docs/web.md, "Invoices"). The
-- French e-invoicing rules ask every invoice for its billing frame (BT-23: B for goods, S
-- for services, M for both; `2` for an invoice already paid, as every Troc invoice is,
-- settled by compensation). The seller says it when it issues the invoice; a credit note
-- copies its invoice's. Invoices issued before this migration have none (NULL): their
-- structured e-invoice declares them "M2" (goods and services).
--
-- The table stays append-only: adding a column is not an UPDATE of any row.
ALTER TABLE invoices ADD COLUMN supply TEXT
    CHECK (supply IS NULL OR supply IN ('goods', 'services', 'mixed'));
