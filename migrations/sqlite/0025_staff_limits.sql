-- 0025: a company's control over what its staff commit it to (docs/web.md, "Staff payment
-- limits"), and who entered each payment.
--
-- `users.payment_max` (minor units) is the most a staff user may commit the company's credit
-- to in one operation: a payment, a payment request accepted, an order, a refund, a standing
-- order's amount. NULL: no cap of its own (the account's credit is the only bound). Only
-- the owner sets it; it applies to staff users only.
--
-- `transaction_authors` names the user who entered a transaction for its member company:
-- the user's company (`member_id`) and email as they were then (`author`; a removed user's
-- transactions keep it). It is written in the write path's batch, in the same database
-- transaction as the transaction itself, and is append-only like it. Transactions entered
-- by the network (fees, write-offs, imports) or by a scheduled job have no row here.
ALTER TABLE users ADD COLUMN payment_max BIGINT
    CHECK (payment_max IS NULL OR payment_max BETWEEN 1 AND 1000000000);

CREATE TABLE transaction_authors (
    tx_id BIGINT PRIMARY KEY REFERENCES transactions (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    author TEXT NOT NULL CHECK (length(author) BETWEEN 1 AND 254)
);

CREATE TRIGGER transaction_authors_no_update BEFORE UPDATE ON transaction_authors
BEGIN
    SELECT RAISE(ABORT, 'troc: transaction_authors is append-only (UPDATE refused)');
END;
CREATE TRIGGER transaction_authors_no_delete BEFORE DELETE ON transaction_authors
BEGIN
    SELECT RAISE(ABORT, 'troc: transaction_authors is append-only (DELETE refused)');
END;
