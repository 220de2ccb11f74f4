-- 0005: tamper evidence (see docs/audit.md). The chain starts at seq 1: a database that
-- already holds transactions cannot take this migration (the NOT NULL hash refuses them).

-- Each committed transaction's link in the hash chain, and the chain's head (the hash of the
-- transaction numbered `ledger_head.seq`; all zeros before the first one).
ALTER TABLE transactions ADD COLUMN hash TEXT NOT NULL CHECK (length(hash) = 64);
ALTER TABLE ledger_head ADD COLUMN hash TEXT NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000'
    CHECK (length(hash) = 64);

-- The payer's signature over the payment order a transaction carries out (part of its hash).
CREATE TABLE payment_signatures (
    tx_id BIGINT PRIMARY KEY REFERENCES transactions (id),
    public_key TEXT NOT NULL CHECK (length(public_key) = 64),
    signature TEXT NOT NULL CHECK (length(signature) = 128),
    expires_at TIMESTAMPTZ NOT NULL
);

-- Members' Ed25519 public keys. A key belongs to one account forever; revoking it stops new
-- orders but keeps it to verify the old ones.
CREATE TABLE member_keys (
    public_key TEXT PRIMARY KEY CHECK (length(public_key) = 64),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX member_keys_account ON member_keys (account_id);

-- Every public key the network ever signed checkpoints with (the private key lives in a file
-- outside the database). A rotated key gets `retired_at` and stays to verify old checkpoints.
CREATE TABLE network_keys (
    public_key TEXT PRIMARY KEY CHECK (length(public_key) = 64),
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

-- Signed statements of the chain: after transaction `seq`, the head was `head`.
CREATE TABLE checkpoints (
    seq BIGINT PRIMARY KEY CHECK (seq > 0),
    head TEXT NOT NULL CHECK (length(head) = 64),
    time TIMESTAMPTZ NOT NULL,
    tx_count BIGINT NOT NULL CHECK (tx_count = seq),
    credit_sum BIGINT NOT NULL CHECK (credit_sum >= 0),
    public_key TEXT NOT NULL REFERENCES network_keys (public_key),
    signature TEXT NOT NULL CHECK (length(signature) = 128)
);

-- Defense in depth, as for transactions: the audit records are append-only; a member key
-- may only go from active to revoked, a network key only be retired once.
CREATE TRIGGER payment_signatures_append_only BEFORE UPDATE OR DELETE ON payment_signatures
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER payment_signatures_no_truncate BEFORE TRUNCATE ON payment_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER member_keys_no_delete BEFORE DELETE ON member_keys
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();
CREATE TRIGGER network_keys_no_delete BEFORE DELETE ON network_keys
    FOR EACH ROW EXECUTE FUNCTION troc_append_only();

CREATE FUNCTION troc_member_key_revoke_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (OLD.status = 'active' AND NEW.status = 'revoked'
            AND NEW.public_key = OLD.public_key AND NEW.account_id = OLD.account_id
            AND NEW.created_at = OLD.created_at) THEN
        RAISE EXCEPTION 'troc: a member key can only be revoked (UPDATE refused)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER member_keys_revoke_only BEFORE UPDATE ON member_keys
    FOR EACH ROW EXECUTE FUNCTION troc_member_key_revoke_only();

CREATE FUNCTION troc_network_key_retire_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
            AND NEW.public_key = OLD.public_key AND NEW.created_at = OLD.created_at) THEN
        RAISE EXCEPTION 'troc: a network key can only be retired (UPDATE refused)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER network_keys_retire_only BEFORE UPDATE ON network_keys
    FOR EACH ROW EXECUTE FUNCTION troc_network_key_retire_only();
