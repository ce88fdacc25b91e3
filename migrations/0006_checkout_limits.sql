-- Card-testing brakes: each counted checkout start or place per client address, and each declined or failed
-- payment per card fingerprint (a hash of what the provider tells us of the card, never the card), over a
-- sliding window. A failure is counted once per order (`order_id`), however often the order is read back.
CREATE TABLE checkout_limit_hits (
    id        INTEGER PRIMARY KEY,
    scope     TEXT NOT NULL CHECK (scope IN ('start', 'place', 'card_failure')),
    key       TEXT NOT NULL,
    order_id  TEXT UNIQUE,
    at        INTEGER NOT NULL                     -- Unix milliseconds
) STRICT;

CREATE INDEX checkout_limit_hits_by_key ON checkout_limit_hits (scope, key, at);
CREATE INDEX checkout_limit_hits_by_age ON checkout_limit_hits (at);
