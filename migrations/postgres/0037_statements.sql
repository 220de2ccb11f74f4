-- 0037: the monthly statement by e-mail (docs/web.md, "E-mail notices").
--
-- The outbox learns the new kind.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement'));

-- How far the monthly statements have gone: `statements_month`, the end of the month last
-- sent or being sent (Unix seconds, the first instant of a month in UTC);
-- `statements_member_after`, while that month is being sent in chunks, the last member
-- whose statement is queued (null once all are). Starts at this month: a network does not
-- get statements of its past.
ALTER TABLE notice_marks ADD COLUMN statements_month BIGINT NOT NULL DEFAULT 0
    CHECK (statements_month >= 0);
ALTER TABLE notice_marks ADD COLUMN statements_member_after BIGINT
    CHECK (statements_member_after IS NULL OR statements_member_after >= 0);
UPDATE notice_marks SET statements_month = EXTRACT(EPOCH FROM date_trunc('month', now() AT TIME ZONE 'UTC'))::BIGINT;

-- Each user chooses whether to get the monthly statement (docs/web.md, "E-mail notices");
-- 1 (the default) or 0.
ALTER TABLE users ADD COLUMN mail_statements BIGINT NOT NULL DEFAULT 1
    CHECK (mail_statements IN (0, 1));
