-- 0028: a limit request may ask for another upper limit (`max_balance`, the largest balance
-- the member may hold) as well as, or instead of, another credit limit (docs/console.md,
-- "Limit requests").
--
-- `max_balance_asked` is NULL when the request leaves the upper limit alone (every request
-- made before this migration). When it is set, `max_balance_before` is the upper limit when
-- the member asked (NULL: none then), and a grant sets `max_balance_granted`. A request
-- that leaves the credit limit alone asks for the one in force (`credit_limit_asked` =
-- `credit_limit_before`). Adding NULL-able columns rewrites no row.
ALTER TABLE limit_requests ADD COLUMN max_balance_asked BIGINT
    CHECK (max_balance_asked IS NULL OR max_balance_asked >= 0);
ALTER TABLE limit_requests ADD COLUMN max_balance_before BIGINT
    CHECK (max_balance_before IS NULL OR (max_balance_before >= 0 AND max_balance_asked IS NOT NULL));
ALTER TABLE limit_requests ADD COLUMN max_balance_granted BIGINT
    CHECK (max_balance_granted IS NULL
           OR (max_balance_granted >= 0 AND max_balance_asked IS NOT NULL AND status = 'granted'));
