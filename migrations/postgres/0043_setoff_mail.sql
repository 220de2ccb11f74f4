-- 0043: the set-off of outside invoices e-mails the companies (docs/web.md, "Set-off of
-- outside invoices"): the debtor when an invoice is declared on it, each company when a run
-- lowered its invoices. The outbox learns the kind.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('password_reset', 'password_changed', 'invitation', 'payment_request',
                    'approval_waiting', 'payments_received', 'network_action',
                    'matches', 'statement',
                    'request_overdue', 'request_declined', 'request_expired',
                    'order_placed', 'order_delivered', 'order_cancelled',
                    'order_expired', 'order_expiring', 'network_inbox', 'dispute',
                    'two_step', 'setoff'));
