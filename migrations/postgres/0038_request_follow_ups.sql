-- 0038: the follow-ups of payment requests by e-mail: to the buyer, a request whose due
-- date passed unpaid; to the seller, its request declined or expired (docs/web.md,
-- "E-mail notices").
--
-- The outbox learns the three new kinds.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement',
                    'request_overdue', 'request_declined', 'request_expired'));

-- The follow-ups of a payment request (docs/web.md, "E-mail notices"): when its buyer was
-- told that its due date passed (`overdue_noticed_at`) and when its seller was told that it
-- expired (`expiry_noticed_at`), Unix seconds; null until then. Requests already past
-- their due date or expired are marked told: a network does not hear of its past.
ALTER TABLE payment_requests ADD COLUMN overdue_noticed_at BIGINT;
ALTER TABLE payment_requests ADD COLUMN expiry_noticed_at BIGINT;
UPDATE payment_requests SET overdue_noticed_at = EXTRACT(EPOCH FROM now())::BIGINT
    WHERE expires_at - 2592000 < EXTRACT(EPOCH FROM now())::BIGINT;
UPDATE payment_requests SET expiry_noticed_at = EXTRACT(EPOCH FROM now())::BIGINT
    WHERE status = 'expired' OR expires_at <= EXTRACT(EPOCH FROM now())::BIGINT;
-- The open requests by expiry: the sweep that expires them, and the overdue ones to tell.
CREATE INDEX payment_requests_open_expiry ON payment_requests (expires_at)
    WHERE status = 'open';
-- The expired requests whose seller is not told yet.
CREATE INDEX payment_requests_expired_untold ON payment_requests (expires_at)
    WHERE status = 'expired' AND expiry_noticed_at IS NULL;
