-- 0027: a payment waiting for the owner's approval expires after 30 days
-- (docs/web.md, "Staff payment limits"), as a payment request does when it falls due.
--
-- The status gains `expired`: a request nobody decided within `APPROVAL_WAIT_DAYS_MAX` days
-- of its asking stops waiting (nothing had moved; nothing moves). `decided_at` is the moment
-- it expired, `decided_by` stays NULL. The partial index finds the requests still waiting
-- by age, for the expiry sweep.
ALTER TABLE payment_approvals DROP CONSTRAINT payment_approvals_status_check;
ALTER TABLE payment_approvals ADD CONSTRAINT payment_approvals_status_check
    CHECK (status IN ('pending', 'approved', 'declined', 'withdrawn', 'expired'));
ALTER TABLE payment_approvals ADD CONSTRAINT payment_approvals_expired_check
    CHECK (status <> 'expired' OR decided_by IS NULL);
CREATE INDEX payment_approvals_waiting ON payment_approvals (created_at)
    WHERE status = 'pending';
