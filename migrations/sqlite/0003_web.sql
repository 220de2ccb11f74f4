-- The web front's tables: member companies' profiles, users and roles, sessions, invitations,
-- the marketplace, payment requests and orders. Times are unix seconds (BIGINT) on both
-- backends so that comparisons mean the same thing everywhere; money is minor units.
-- Ledger accounts are referenced by id only: the ledger tables belong to the store.

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    siren TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postcode TEXT NOT NULL,
    sector TEXT NOT NULL,
    description TEXT NOT NULL,
    contact TEXT NOT NULL,
    hide_balance BOOLEAN NOT NULL DEFAULT FALSE,
    in_directory BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'accountant', 'owner', 'staff')),
    member_id BIGINT REFERENCES members (id),
    lang TEXT NOT NULL DEFAULT 'fr',
    created_at BIGINT NOT NULL,
    CHECK ((role IN ('owner', 'staff')) = (member_id IS NOT NULL))
);

-- Only a SHA-256 of the session token is stored. Anonymous sessions (user_id NULL) carry the
-- CSRF token of the login and invitation forms.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'accountant', 'owner', 'staff')),
    member_id BIGINT REFERENCES members (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE listings (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('offer', 'want')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    price_minor BIGINT,
    vat_bp BIGINT NOT NULL,
    city TEXT NOT NULL,
    active_until TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX listings_search ON listings (status, kind, id);
CREATE INDEX listings_member ON listings (member_id, id);

CREATE TABLE payment_requests (
    id INTEGER PRIMARY KEY,
    seller_member_id BIGINT NOT NULL REFERENCES members (id),
    buyer_member_id BIGINT NOT NULL REFERENCES members (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'declined', 'expired')),
    tx_id BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    form_token TEXT NOT NULL UNIQUE
);
CREATE INDEX payment_requests_buyer ON payment_requests (buyer_member_id, status);
CREATE INDEX payment_requests_seller ON payment_requests (seller_member_id, status);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    listing_id BIGINT NOT NULL REFERENCES listings (id),
    buyer_member_id BIGINT NOT NULL REFERENCES members (id),
    seller_member_id BIGINT NOT NULL REFERENCES members (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    hold_id BIGINT,
    tx_id BIGINT,
    status TEXT NOT NULL CHECK (status IN ('held', 'delivered', 'cancelled', 'expired')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    form_token TEXT NOT NULL UNIQUE
);
CREATE INDEX orders_buyer ON orders (buyer_member_id, status);
CREATE INDEX orders_seller ON orders (seller_member_id, status);
