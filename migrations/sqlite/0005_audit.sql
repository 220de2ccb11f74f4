-- 0005: tamper evidence (see docs/audit.md). The chain starts at seq 1: a database that
-- already holds transactions cannot take this migration (the hash CHECK refuses them).

-- Each committed transaction's link in the hash chain, and the chain's head (the hash of the
-- transaction numbered `ledger_head.seq`; all zeros before the first one).
ALTER TABLE transactions ADD COLUMN hash TEXT NOT NULL DEFAULT '' CHECK (length(hash) = 64);
ALTER TABLE ledger_head ADD COLUMN hash TEXT NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000'
    CHECK (length(hash) = 64);

-- The payer's signature over the payment order a transaction carries out (part of its hash).
CREATE TABLE payment_signatures (
    tx_id INTEGER PRIMARY KEY REFERENCES transactions (id),
    public_key TEXT NOT NULL CHECK (length(public_key) = 64),
    signature TEXT NOT NULL CHECK (length(signature) = 128),
    expires_at TEXT NOT NULL
);

-- Members' Ed25519 public keys. A key belongs to one account forever; revoking it stops new
-- orders but keeps it to verify the old ones.
CREATE TABLE member_keys (
    public_key TEXT PRIMARY KEY CHECK (length(public_key) = 64),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX member_keys_account ON member_keys (account_id);

-- Every public key the network ever signed checkpoints with (the private key lives in a file
-- outside the database). A rotated key gets `retired_at` and stays to verify old checkpoints.
CREATE TABLE network_keys (
    public_key TEXT PRIMARY KEY CHECK (length(public_key) = 64),
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- Signed statements of the chain: after transaction `seq`, the head was `head`.
CREATE TABLE checkpoints (
    seq INTEGER PRIMARY KEY CHECK (seq > 0),
    head TEXT NOT NULL CHECK (length(head) = 64),
    time TEXT NOT NULL,
    tx_count INTEGER NOT NULL CHECK (tx_count = seq),
    credit_sum INTEGER NOT NULL CHECK (credit_sum >= 0),
    public_key TEXT NOT NULL REFERENCES network_keys (public_key),
    signature TEXT NOT NULL CHECK (length(signature) = 128)
);

-- Defense in depth, as for transactions: the audit records are append-only; a member key
-- may only go from active to revoked, a network key only be retired once.
CREATE TRIGGER payment_signatures_no_update BEFORE UPDATE ON payment_signatures
BEGIN
    SELECT RAISE(ABORT, 'troc: payment_signatures is append-only (UPDATE refused)');
END;
CREATE TRIGGER payment_signatures_no_delete BEFORE DELETE ON payment_signatures
BEGIN
    SELECT RAISE(ABORT, 'troc: payment_signatures is append-only (DELETE refused)');
END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'troc: checkpoints is append-only (UPDATE refused)');
END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'troc: checkpoints is append-only (DELETE refused)');
END;
CREATE TRIGGER member_keys_no_delete BEFORE DELETE ON member_keys
BEGIN
    SELECT RAISE(ABORT, 'troc: member_keys is append-only (DELETE refused)');
END;
CREATE TRIGGER member_keys_revoke_only BEFORE UPDATE ON member_keys
WHEN NOT (OLD.status = 'active' AND NEW.status = 'revoked'
          AND NEW.public_key = OLD.public_key AND NEW.account_id = OLD.account_id
          AND NEW.created_at = OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'troc: a member key can only be revoked (UPDATE refused)');
END;
CREATE TRIGGER network_keys_no_delete BEFORE DELETE ON network_keys
BEGIN
    SELECT RAISE(ABORT, 'troc: network_keys is append-only (DELETE refused)');
END;
CREATE TRIGGER network_keys_retire_only BEFORE UPDATE ON network_keys
WHEN NOT (OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
          AND NEW.public_key = OLD.public_key AND NEW.created_at = OLD.created_at)
BEGIN
    SELECT RAISE(ABORT, 'troc: a network key can only be retired (UPDATE refused)');
END;
