-- 0016: the account mapping of the accountant exports, stored (docs/exports.md,
-- "Configuration"). One row per scope: `network` holds the network's mapping (the operator's
-- accounts and the members' default, the JSON of `AccountMapping` without overrides);
-- `member:<ledger account id>` holds one member's override (the JSON of `MemberMapping`).
-- No row: the built-in PCG 2025 defaults. The application validates the JSON before it writes
-- it (`AccountMapping::from_json`); every change is recorded in the action log.
CREATE TABLE account_mappings (
    scope_key TEXT PRIMARY KEY
        CHECK (scope_key = 'network'
            OR (scope_key GLOB 'member:[0-9]*'
                AND substr(scope_key, 8) NOT GLOB '*[^0-9]*'
                AND length(scope_key) <= 27)),
    mapping TEXT NOT NULL CHECK (length(mapping) BETWEEN 2 AND 65536),
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
