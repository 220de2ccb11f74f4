-- Bootstrap: the network's settings table. The ledger tables follow in 0002.
CREATE TABLE network (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
