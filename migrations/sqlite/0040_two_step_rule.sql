-- 0040: the network may require two-step login (docs/web.md, "Two-step login"): of nobody
-- (each user's choice, as 0039 made it), of the network's staff (managers and the
-- network's accountants), or of everyone. A user the rule covers who has not turned it on
-- reaches only the page that turns it on, and cannot turn it off. Managers change the rule
-- with a reason, logged as `settings.two_step`.
ALTER TABLE console_settings ADD COLUMN two_step_rule TEXT NOT NULL DEFAULT 'nobody'
    CHECK (two_step_rule IN ('nobody', 'network_staff', 'everyone'));
