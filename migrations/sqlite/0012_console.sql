-- 0012: the network manager's console, members and credit limits (docs/console.md, "Members
-- and credit limits"). Member categories with default limits, the console's settings (review
-- thresholds, the suggested-limit rule), applications from companies, member creation
-- batches (single creations, approvals and CSV imports) and, on members, their category,
-- declared annual turnover and next review date. Times are unix seconds, money minor units,
-- dates YYYY-MM-DD text, like the other web tables.

CREATE TABLE member_categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    credit_limit BIGINT NOT NULL CHECK (credit_limit >= 0),
    max_balance BIGINT CHECK (max_balance IS NULL OR max_balance >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The category a member gets when none is named; its code never changes.
INSERT INTO member_categories (code, name, credit_limit, max_balance, created_at, updated_at)
VALUES ('standard', 'Standard', 100000, NULL, 0, 0);

-- One row: the thresholds of the review lists and the parameters of the suggested limit.
CREATE TABLE console_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    near_limit_pct BIGINT NOT NULL CHECK (near_limit_pct BETWEEN 1 AND 100),
    negative_days BIGINT NOT NULL CHECK (negative_days BETWEEN 1 AND 3650),
    growth_months BIGINT NOT NULL CHECK (growth_months BETWEEN 1 AND 24),
    turnover_share_bp BIGINT NOT NULL CHECK (turnover_share_bp BETWEEN 0 AND 10000),
    sales_months BIGINT NOT NULL CHECK (sales_months BETWEEN 1 AND 36),
    sales_share_bp BIGINT NOT NULL CHECK (sales_share_bp BETWEEN 0 AND 100000),
    updated_at BIGINT NOT NULL
);
INSERT INTO console_settings (id, near_limit_pct, negative_days, growth_months,
    turnover_share_bp, sales_months, sales_share_bp, updated_at)
VALUES (1, 80, 365, 3, 500, 12, 10000, 0);

-- A creation of members: one (form, API, approval) or many (CSV import). Written before the
-- members' ledger operations; `plan` holds them (JSON) so that an interrupted batch can be
-- finished with the same idempotency keys. See docs/console.md, "All or nothing".
CREATE TABLE member_batches (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('form', 'import', 'application', 'api')),
    actor_user_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('writing', 'done', 'cancelled')),
    plan TEXT NOT NULL,
    lines BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX member_batches_status ON member_batches (status, id);

ALTER TABLE members ADD COLUMN category_id BIGINT REFERENCES member_categories (id);
ALTER TABLE members ADD COLUMN declared_turnover BIGINT
    CHECK (declared_turnover IS NULL OR declared_turnover >= 0);
ALTER TABLE members ADD COLUMN next_review TEXT;
ALTER TABLE members ADD COLUMN batch_id BIGINT REFERENCES member_batches (id);
UPDATE members SET category_id = (SELECT id FROM member_categories WHERE code = 'standard');
CREATE INDEX members_next_review ON members (next_review);

-- A company's application to join, from the public form; a manager approves it (a member, its
-- account and an owner invitation) or refuses it with a reason.
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    siren TEXT NOT NULL,
    email TEXT NOT NULL,
    contact TEXT NOT NULL,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postcode TEXT NOT NULL,
    sector TEXT NOT NULL,
    description TEXT NOT NULL,
    declared_turnover BIGINT CHECK (declared_turnover IS NULL OR declared_turnover >= 0),
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT REFERENCES users (id),
    decision_reason TEXT NOT NULL DEFAULT '',
    member_id BIGINT REFERENCES members (id)
);
CREATE INDEX applications_status ON applications (status, id);
-- One pending application per company.
CREATE UNIQUE INDEX applications_pending_siren ON applications (siren) WHERE status = 'pending';
