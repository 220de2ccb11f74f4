-- 0041: the steps of a dispute by e-mail to the companies it concerns (docs/web.md,
-- "Disputes").
--
-- The outbox learns the new kind.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement',
                    'request_overdue', 'request_declined', 'request_expired',
                    'order_placed', 'order_delivered', 'order_cancelled',
                    'order_expired', 'network_inbox', 'dispute'));

-- When the parties of a closed dispute were told how it ended (withdrawn, refunded,
-- reversed, dismissed), Unix seconds; null until then. Disputes already closed are marked
-- told: a network does not hear of its past.
ALTER TABLE disputes ADD COLUMN closed_noticed_at BIGINT;
UPDATE disputes SET closed_noticed_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE status <> 'open';
-- The closed disputes not yet told, by the time they closed.
CREATE INDEX disputes_closed_untold ON disputes (decided_at)
    WHERE status <> 'open' AND closed_noticed_at IS NULL;
