-- 0039: the e-mails of an order: to the seller, a new order; to the buyer, its delivery;
-- to the other party, a cancellation; to both, its expiry (docs/web.md, "E-mail notices").
--
-- The outbox learns the four new kinds.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement',
                    'request_overdue', 'request_declined', 'request_expired',
                    'order_placed', 'order_delivered', 'order_cancelled',
                    'order_expired'));

-- When the buyer and the seller were told that an order expired undelivered (Unix
-- seconds; null until then). Orders already expired are marked told: a network does not
-- hear of its past.
ALTER TABLE orders ADD COLUMN expiry_noticed_at BIGINT;
UPDATE orders SET expiry_noticed_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE status = 'expired';
-- The held orders by expiry: the sweep that releases them.
CREATE INDEX orders_held_expiry ON orders (expires_at) WHERE status = 'held';
-- The expired orders whose parties are not told yet.
CREATE INDEX orders_expired_untold ON orders (expires_at)
    WHERE status = 'expired' AND expiry_noticed_at IS NULL;
