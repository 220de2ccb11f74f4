-- Payment requests: failed payment attempts. The idempotency key of an acceptance is
-- web-request-ID-ATTEMPTS, so two concurrent clicks share one key (one payment) and a refused
-- attempt frees a new key for the next try.
ALTER TABLE payment_requests ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;

-- Listings: the creating form's token, so that a double submit creates one listing.
ALTER TABLE listings ADD COLUMN form_token TEXT;
CREATE UNIQUE INDEX listings_form_token ON listings (form_token);
