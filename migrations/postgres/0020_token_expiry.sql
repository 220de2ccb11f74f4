-- 0020: API tokens may expire (docs/api.md, "Authentication and scopes").
--
-- `expires_at` (Unix seconds, UTC) is when a token stops working; NULL: it never expires
-- (every token created before this migration, and operator tokens made without
-- `--expires-in-days`). An expired token answers 401 like a revoked one and no longer
-- counts toward the user's 20 active tokens. Nothing else changes: a new nullable column.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
