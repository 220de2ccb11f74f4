-- 0040: the network's managers told by e-mail of what waits for them: new applications,
-- requests for a limit, disputes and notices of departure (docs/console.md, "E-mail to the
-- managers").
--
-- The outbox learns the new kind.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement',
                    'request_overdue', 'request_declined', 'request_expired',
                    'order_placed', 'order_delivered', 'order_cancelled',
                    'order_expired', 'network_inbox'));

-- How far the network's managers are told of what members and applicants ask of them (one
-- e-mail per manager per housekeeping round that found something): the last application,
-- request for a limit, dispute and notice of departure told. All start at the migration:
-- a network does not hear of its past.
ALTER TABLE notice_marks ADD COLUMN application_id BIGINT NOT NULL DEFAULT 0
    CHECK (application_id >= 0);
ALTER TABLE notice_marks ADD COLUMN limit_request_id BIGINT NOT NULL DEFAULT 0
    CHECK (limit_request_id >= 0);
ALTER TABLE notice_marks ADD COLUMN dispute_id BIGINT NOT NULL DEFAULT 0
    CHECK (dispute_id >= 0);
ALTER TABLE notice_marks ADD COLUMN departure_id BIGINT NOT NULL DEFAULT 0
    CHECK (departure_id >= 0);
UPDATE notice_marks SET
    application_id = (SELECT COALESCE(MAX(id), 0) FROM applications),
    limit_request_id = (SELECT COALESCE(MAX(id), 0) FROM limit_requests),
    dispute_id = (SELECT COALESCE(MAX(id), 0) FROM disputes),
    departure_id = (SELECT COALESCE(MAX(id), 0) FROM departures);
