-- The merchant back office: users and their sessions, sign-in throttling, received provider notifications,
-- and what the order history filters and shows without a join.

CREATE TABLE merchant_users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at     INTEGER NOT NULL
) STRICT;

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of the database signs no one in.
CREATE TABLE merchant_sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES merchant_users (id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX merchant_sessions_by_user ON merchant_sessions (user_id);

-- Failed sign-ins, counted per account and per address over a sliding window.
CREATE TABLE sign_in_failures (
    id       INTEGER PRIMARY KEY,
    account  TEXT NOT NULL COLLATE NOCASE,
    address  TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;

CREATE INDEX sign_in_failures_by_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);

-- Each provider event once: a duplicate or replayed delivery finds its id here and changes nothing.
CREATE TABLE notifications_received (
    event_id        TEXT PRIMARY KEY,
    provider        TEXT NOT NULL CHECK (provider IN ('verifone', 'bambora')),
    event           TEXT NOT NULL,
    transaction_id  TEXT,
    order_id        TEXT REFERENCES orders (id),
    received_at     INTEGER NOT NULL
) STRICT;

-- At most one refund, capture or void per order in flight: two at once could exceed what remains.
CREATE UNIQUE INDEX one_action_in_flight_per_order ON payment_attempts (order_id)
    WHERE kind IN ('capture', 'refund', 'void') AND status IN ('pending', 'unknown');
CREATE INDEX payment_attempts_by_provider_transaction ON payment_attempts (provider_transaction_id)
    WHERE provider_transaction_id IS NOT NULL;

-- The latest 3-D Secure answer, kept on the order so the history lists and filters without a join.
ALTER TABLE orders ADD COLUMN threeds_enrolled TEXT;
ALTER TABLE orders ADD COLUMN threeds_pares_status TEXT;
ALTER TABLE orders ADD COLUMN threeds_eci TEXT;
UPDATE orders SET
    threeds_enrolled = (SELECT enrolled FROM threeds_results t WHERE t.order_id = orders.id ORDER BY id DESC LIMIT 1),
    threeds_pares_status =
        (SELECT pares_status FROM threeds_results t WHERE t.order_id = orders.id ORDER BY id DESC LIMIT 1),
    threeds_eci = (SELECT eci_flag FROM threeds_results t WHERE t.order_id = orders.id ORDER BY id DESC LIMIT 1);

-- Search by order id, reference, email or last four uses the primary key and these indexes; the list walks
-- orders_by_created newest first. The last-four index covers what the list filters and sums, in page order.
DROP INDEX orders_by_last4;
CREATE INDEX orders_by_last4 ON orders (card_last4, created_at DESC, id DESC, currency, status, provider, card_brand,
    liability_shifted, amount_minor, captured_minor, refunded_minor);
-- Totals that the monthly rollup below cannot give (a date range's partial months, an amount range) read
-- these covering indexes instead of the wide rows.
CREATE INDEX orders_for_totals ON orders (created_at, currency, status, provider, card_brand, liability_shifted,
    amount_minor, captured_minor, refunded_minor);
CREATE INDEX orders_by_amount ON orders (currency, amount_minor, created_at, status, provider, card_brand,
    liability_shifted, captured_minor, refunded_minor);

-- Order counts and sums per UTC month and per value of every filter but amount and search, kept by
-- triggers in the same transaction as the order itself: the history's totals read a few thousand rows
-- instead of every order. `card_brand` is '' without a card; `liability` is -1 before 3-D Secure.
CREATE TABLE order_totals (
    month           INTEGER NOT NULL,           -- YYYYMM of created_at
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL,
    captured_minor  INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    PRIMARY KEY (month, currency, status, provider, card_brand, liability)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER order_totals_on_insert AFTER INSERT ON orders
BEGIN
    INSERT INTO order_totals VALUES (
        CAST(strftime('%Y%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER), NEW.currency, NEW.status,
        NEW.provider, coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor,
        NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

CREATE TRIGGER order_totals_on_update AFTER UPDATE OF currency, status, provider, card_brand, liability_shifted,
    amount_minor, captured_minor, refunded_minor, created_at ON orders
BEGIN
    UPDATE order_totals SET orders = orders - 1, amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor, refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE month = CAST(strftime('%Y%m', OLD.created_at / 1000, 'unixepoch') AS INTEGER)
        AND currency = OLD.currency AND status = OLD.status AND provider = OLD.provider
        AND card_brand = coalesce(OLD.card_brand, '') AND liability = coalesce(OLD.liability_shifted, -1);
    INSERT INTO order_totals VALUES (
        CAST(strftime('%Y%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER), NEW.currency, NEW.status,
        NEW.provider, coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor,
        NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

INSERT INTO order_totals
    SELECT CAST(strftime('%Y%m', created_at / 1000, 'unixepoch') AS INTEGER), currency, status, provider,
        coalesce(card_brand, ''), coalesce(liability_shifted, -1), count(*), sum(amount_minor), sum(captured_minor),
        sum(refunded_minor)
    FROM orders GROUP BY 1, 2, 3, 4, 5, 6;
