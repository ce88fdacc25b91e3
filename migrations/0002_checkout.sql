-- The shopper's checkout: what was bought, the key that makes a double submit harmless, and why an order
-- ended as it did.

ALTER TABLE orders ADD COLUMN checkout_key TEXT;            -- one per checkout page view; a retry reuses it
CREATE UNIQUE INDEX orders_by_checkout_key ON orders (checkout_key) WHERE checkout_key IS NOT NULL;
ALTER TABLE orders ADD COLUMN outcome_reason TEXT;          -- plain-language reason shown to the shopper

CREATE TABLE order_items (
    order_id      TEXT NOT NULL REFERENCES orders (id),
    sku           TEXT NOT NULL,
    name          TEXT NOT NULL,
    unit_minor    INTEGER NOT NULL CHECK (unit_minor > 0),
    quantity      INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    PRIMARY KEY (order_id, sku)
) STRICT;

-- The exact payment request of an attempt whose answer is unknown, so it can be resent with the same
-- idempotency key; it holds the provider-encrypted card and is cleared as soon as the attempt is resolved.
ALTER TABLE payment_attempts ADD COLUMN pending_request TEXT;
