-- Bootstrap: the network's settings table. The ledger tables follow in 0002.
CREATE TABLE network (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
