-- 0024: invoices (« factures ») and credit notes (« avoirs »). The seller of a payment
-- received issues the invoice of that sale, settled by compensation through the network;
-- once the payment is refunded, it issues the credit note that cancels the invoice
-- (docs/web.md, "Invoices"). French law wants each invoice numbered in one unbroken
-- chronological series and never changed once issued: the number is the seller's series
-- (`FA` invoices, `AV` credit notes), the year and its rank in that year (`FA-2026-00001`),
-- and the rows are append-only.
--
-- The parties' names, SIRENs and addresses are copied as they were when the invoice was
-- issued, as the printed invoice shows them. `total` is the amount the seller received
-- (the payment's principal leg, tax included); `net` and `vat` split it at `vat_bp`
-- (basis points: 2000 = 20 %). `created_by` is the issuer's email, as it was then. A
-- credit note repeats its invoice's figures, names the invoice it cancels (`credits`, at
-- most one credit note per invoice) and the refund's transaction (`tx_id`).
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    seller_member_id BIGINT NOT NULL REFERENCES members (id),
    buyer_member_id BIGINT NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    credits BIGINT UNIQUE REFERENCES invoices (id),
    tx_id BIGINT NOT NULL UNIQUE,
    year BIGINT NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    seq BIGINT NOT NULL CHECK (seq BETWEEN 1 AND 99999),
    number TEXT NOT NULL CHECK (length(number) BETWEEN 1 AND 32),
    issued_on TEXT NOT NULL CHECK (length(issued_on) = 10),
    paid_at BIGINT NOT NULL,
    description TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    vat_bp BIGINT NOT NULL CHECK (vat_bp BETWEEN 0 AND 10000),
    total BIGINT NOT NULL CHECK (total > 0),
    net BIGINT NOT NULL CHECK (net >= 0),
    vat BIGINT NOT NULL CHECK (vat >= 0),
    seller_name TEXT NOT NULL,
    seller_siren TEXT NOT NULL,
    seller_address TEXT NOT NULL,
    buyer_name TEXT NOT NULL,
    buyer_siren TEXT NOT NULL,
    buyer_address TEXT NOT NULL,
    created_by TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 254),
    created_at BIGINT NOT NULL,
    CHECK (net + vat = total),
    CHECK (seller_member_id <> buyer_member_id),
    CHECK ((kind = 'credit_note') = (credits IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_number ON invoices (seller_member_id, kind, year, seq);
CREATE INDEX invoices_seller ON invoices (seller_member_id, id);
CREATE INDEX invoices_buyer ON invoices (buyer_member_id, id);
-- The order a capture settled: the invoice form proposes the listing's title and VAT rate.
CREATE INDEX orders_tx ON orders (tx_id) WHERE tx_id IS NOT NULL;

CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN
    SELECT RAISE(ABORT, 'troc: invoices are append-only (UPDATE refused)');
END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN
    SELECT RAISE(ABORT, 'troc: invoices are append-only (DELETE refused)');
END;
