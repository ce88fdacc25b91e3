-- The schema of migrations/0001 to 0009 (SQLite) for PostgreSQL, in one step: a PostgreSQL database starts
-- here, and each later SQLite migration gets its PostgreSQL twin with the same number. Read the SQLite files
-- for why each table, column and index is there; tests/schema.rs checks that both hold the same.
--
-- Translation: INTEGER is BIGINT (sqlx's `Any` reads both as i64); an `INTEGER PRIMARY KEY` is an identity
-- column; JSON stays TEXT that must parse; `NOT GLOB '*[^0-9]*'` is `!~ '[^0-9]'`; `COLLATE NOCASE` is the
-- case-insensitive ICU collation `nocase`; triggers call PL/pgSQL functions. Tables whose rows the code
-- reads in insertion order (SQLite's implicit `rowid`) get a `rowid` identity column of the same name.

CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- Card columns hold at most the brand, first six and last four digits and the expiry; the CHECKs make
-- it impossible to store a full card number in them. There is no column for a CVV.
CREATE TABLE orders (
    id                  TEXT PRIMARY KEY,
    merchant_reference  TEXT NOT NULL UNIQUE,
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    captured_minor      BIGINT NOT NULL DEFAULT 0 CONSTRAINT orders_captured_minor_check CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
    refunded_minor      BIGINT NOT NULL DEFAULT 0 CONSTRAINT orders_refunded_minor_check CHECK (refunded_minor >= 0 AND refunded_minor <= captured_minor),
    email               TEXT NOT NULL,
    billing_first_name  TEXT NOT NULL,
    billing_last_name   TEXT NOT NULL,
    billing_address_1   TEXT NOT NULL,
    billing_city        TEXT NOT NULL,
    billing_country     TEXT NOT NULL CHECK (length(billing_country) = 2),
    card_brand          TEXT CHECK (card_brand IN ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER', 'JCB')),
    card_bin6           TEXT CHECK (length(card_bin6) = 6 AND card_bin6 !~ '[^0-9]'),
    card_last4          TEXT CHECK (length(card_last4) = 4 AND card_last4 !~ '[^0-9]'),
    card_expiry_month   BIGINT CHECK (card_expiry_month BETWEEN 1 AND 12),
    card_expiry_year    BIGINT CHECK (card_expiry_year BETWEEN 2000 AND 2099),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'authenticating', 'authorizing', 'unknown',
                            'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'declined',
                            'failed', 'expired')),
    provider            TEXT NOT NULL CHECK (provider IN ('verifone', 'bambora')),
    capture_mode        TEXT NOT NULL CHECK (capture_mode IN ('sale', 'pre_auth')),
    liability_shifted   BIGINT CHECK (liability_shifted IN (0, 1)),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    checkout_key        TEXT,
    outcome_reason      TEXT,
    threeds_enrolled    TEXT,
    threeds_pares_status TEXT,
    threeds_eci         TEXT,
    awaiting            TEXT CHECK (awaiting IS NULL OR awaiting::json IS NOT NULL),
    resolving_until     BIGINT,
    resolver            TEXT,
    authenticator       TEXT CHECK (authenticator IN ('verifone')),
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (status, created_at DESC);
CREATE INDEX orders_by_email ON orders (email);
CREATE UNIQUE INDEX orders_by_checkout_key ON orders (checkout_key) WHERE checkout_key IS NOT NULL;
CREATE INDEX orders_by_last4 ON orders (card_last4, created_at DESC, id DESC, currency, status, provider, card_brand,
    liability_shifted, amount_minor, captured_minor, refunded_minor);
CREATE INDEX orders_for_totals ON orders (created_at, currency, status, provider, card_brand, liability_shifted,
    amount_minor, captured_minor, refunded_minor);
CREATE INDEX orders_by_amount ON orders (currency, amount_minor, created_at, status, provider, card_brand,
    liability_shifted, captured_minor, refunded_minor);

CREATE TABLE payment_attempts (
    id                       TEXT PRIMARY KEY,
    order_id                 TEXT NOT NULL REFERENCES orders (id),
    kind                     TEXT NOT NULL CHECK (kind IN ('authorize', 'capture', 'refund', 'void')),
    idempotency_key          TEXT NOT NULL UNIQUE,
    amount_minor             BIGINT NOT NULL CHECK (amount_minor >= 0),
    status                   TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'failed', 'unknown')),
    provider_transaction_id  TEXT,
    provider_status          TEXT,
    reason_code              TEXT,
    message                  TEXT,
    resume_token             TEXT,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    pending_request          TEXT,
    rowid                    BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE INDEX payment_attempts_by_order ON payment_attempts (order_id, created_at);
CREATE UNIQUE INDEX one_authorization_per_order ON payment_attempts (order_id)
    WHERE kind = 'authorize' AND status IN ('pending', 'succeeded', 'unknown');
CREATE UNIQUE INDEX one_action_in_flight_per_order ON payment_attempts (order_id)
    WHERE kind IN ('capture', 'refund', 'void') AND status IN ('pending', 'unknown');
CREATE INDEX payment_attempts_by_provider_transaction ON payment_attempts (provider_transaction_id)
    WHERE provider_transaction_id IS NOT NULL;

CREATE TABLE threeds_results (
    id                      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id                TEXT NOT NULL REFERENCES orders (id),
    stage                   TEXT NOT NULL CHECK (stage IN ('lookup', 'challenge', 'provider')),
    authentication_id       TEXT,
    transaction_id          TEXT,
    acs_transaction_id      TEXT,
    ds_transaction_id       TEXT,
    xid                     TEXT,
    threeds_version         TEXT,
    enrolled                TEXT CHECK (enrolled IN ('Y', 'N', 'U', 'B')),
    pares_status            TEXT CHECK (pares_status IN ('Y', 'N', 'U', 'A', 'C', 'R')),
    signature_verification  TEXT CHECK (signature_verification IN ('Y', 'N')),
    eci_flag                TEXT CHECK (length(eci_flag) = 2),
    cavv_present            BIGINT NOT NULL CHECK (cavv_present IN (0, 1)),
    challenge_required      TEXT CHECK (challenge_required IN ('Y', 'N')),
    status_reason           TEXT,
    action_code             TEXT,
    error_no                TEXT,
    error_desc              TEXT,
    liability_shifted       BIGINT NOT NULL CHECK (liability_shifted IN (0, 1)),
    created_at              BIGINT NOT NULL,
    cavv_result             TEXT
);

CREATE INDEX threeds_results_by_order ON threeds_results (order_id, id);

CREATE TABLE order_events (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    kind        TEXT NOT NULL,
    details     TEXT NOT NULL CHECK (details::json IS NOT NULL),
    created_at  BIGINT NOT NULL
);

CREATE INDEX order_events_by_order ON order_events (order_id, id);

CREATE FUNCTION order_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order_events is append-only';
END
$$;

CREATE TRIGGER order_events_are_append_only_update BEFORE UPDATE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_are_append_only();
CREATE TRIGGER order_events_are_append_only_delete BEFORE DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_are_append_only();

CREATE TABLE order_items (
    order_id      TEXT NOT NULL REFERENCES orders (id),
    sku           TEXT NOT NULL,
    name          TEXT NOT NULL,
    unit_minor    BIGINT NOT NULL CHECK (unit_minor > 0),
    quantity      BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE merchant_users (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email          TEXT COLLATE nocase NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at     BIGINT NOT NULL
);

CREATE TABLE merchant_sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES merchant_users (id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);

CREATE INDEX merchant_sessions_by_user ON merchant_sessions (user_id);

CREATE TABLE sign_in_failures (
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account  TEXT COLLATE nocase NOT NULL,
    address  TEXT NOT NULL,
    at       BIGINT NOT NULL
);

CREATE INDEX sign_in_failures_by_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);

CREATE TABLE notifications_received (
    event_id        TEXT PRIMARY KEY,
    provider        TEXT NOT NULL CHECK (provider IN ('verifone', 'bambora')),
    event           TEXT NOT NULL,
    transaction_id  TEXT,
    order_id        TEXT REFERENCES orders (id),
    received_at     BIGINT NOT NULL
);

CREATE TABLE checkout_limit_hits (
    id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    scope     TEXT NOT NULL CHECK (scope IN ('start', 'place', 'card_failure')),
    key       TEXT NOT NULL,
    order_id  TEXT UNIQUE,
    at        BIGINT NOT NULL
);

CREATE INDEX checkout_limit_hits_by_key ON checkout_limit_hits (scope, key, at);
CREATE INDEX checkout_limit_hits_by_age ON checkout_limit_hits (at);

-- The history's rollups (SQLite 0009): per UTC day, per day and last four, per month and exact amount.
CREATE TABLE order_totals (
    currency        TEXT NOT NULL,
    day             BIGINT NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       BIGINT NOT NULL,
    orders          BIGINT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    captured_minor  BIGINT NOT NULL,
    refunded_minor  BIGINT NOT NULL,
    PRIMARY KEY (currency, day, status, provider, card_brand, liability)
);

CREATE TABLE order_totals_by_last4 (
    card_last4      TEXT NOT NULL,
    currency        TEXT NOT NULL,
    day             BIGINT NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       BIGINT NOT NULL,
    orders          BIGINT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    captured_minor  BIGINT NOT NULL,
    refunded_minor  BIGINT NOT NULL,
    PRIMARY KEY (card_last4, currency, day, status, provider, card_brand, liability)
);

CREATE TABLE order_totals_by_amount (
    currency        TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    month           BIGINT NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       BIGINT NOT NULL,
    orders          BIGINT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    captured_minor  BIGINT NOT NULL,
    refunded_minor  BIGINT NOT NULL,
    PRIMARY KEY (currency, amount, month, status, provider, card_brand, liability)
);

-- YYYYMM of a Unix millisecond, in UTC (SQLite: strftime('%Y%m', ms / 1000, 'unixepoch')).
CREATE FUNCTION utc_month(ms BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CAST(extract(year FROM t) * 100 + extract(month FROM t) AS BIGINT)
    FROM (SELECT to_timestamp(ms / 1000) AT TIME ZONE 'UTC' AS t) AS instant
$$;

-- What SQLite's two triggers do: take the old row out of its groups (an update), put the new one in.
CREATE FUNCTION order_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE order_totals t SET orders = t.orders - 1, amount_minor = t.amount_minor - OLD.amount_minor,
            captured_minor = t.captured_minor - OLD.captured_minor,
            refunded_minor = t.refunded_minor - OLD.refunded_minor
        WHERE t.currency = OLD.currency AND t.day = OLD.created_at / 86400000 AND t.status = OLD.status
            AND t.provider = OLD.provider AND t.card_brand = coalesce(OLD.card_brand, '')
            AND t.liability = coalesce(OLD.liability_shifted, -1);
        UPDATE order_totals_by_last4 t SET orders = t.orders - 1, amount_minor = t.amount_minor - OLD.amount_minor,
            captured_minor = t.captured_minor - OLD.captured_minor,
            refunded_minor = t.refunded_minor - OLD.refunded_minor
        WHERE t.card_last4 = coalesce(OLD.card_last4, '') AND t.currency = OLD.currency
            AND t.day = OLD.created_at / 86400000 AND t.status = OLD.status AND t.provider = OLD.provider
            AND t.card_brand = coalesce(OLD.card_brand, '') AND t.liability = coalesce(OLD.liability_shifted, -1);
        UPDATE order_totals_by_amount t SET orders = t.orders - 1, amount_minor = t.amount_minor - OLD.amount_minor,
            captured_minor = t.captured_minor - OLD.captured_minor,
            refunded_minor = t.refunded_minor - OLD.refunded_minor
        WHERE t.currency = OLD.currency AND t.amount = OLD.amount_minor AND t.month = utc_month(OLD.created_at)
            AND t.status = OLD.status AND t.provider = OLD.provider AND t.card_brand = coalesce(OLD.card_brand, '')
            AND t.liability = coalesce(OLD.liability_shifted, -1);
    END IF;
    INSERT INTO order_totals AS t VALUES (NEW.currency, NEW.created_at / 86400000, NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT (currency, day, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + 1,
        amount_minor = t.amount_minor + excluded.amount_minor,
        captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_last4 AS t VALUES (coalesce(NEW.card_last4, ''), NEW.currency,
        NEW.created_at / 86400000, NEW.status, NEW.provider, coalesce(NEW.card_brand, ''),
        coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT (card_last4, currency, day, status, provider, card_brand, liability) DO UPDATE SET
        orders = t.orders + 1, amount_minor = t.amount_minor + excluded.amount_minor,
        captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_amount AS t VALUES (NEW.currency, NEW.amount_minor, utc_month(NEW.created_at),
        NEW.status, NEW.provider, coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1,
        NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT (currency, amount, month, status, provider, card_brand, liability) DO UPDATE SET
        orders = t.orders + 1, amount_minor = t.amount_minor + excluded.amount_minor,
        captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_totals_on_insert AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION order_totals_keep();
CREATE TRIGGER order_totals_on_update AFTER UPDATE OF currency, status, provider, card_brand, card_last4,
    liability_shifted, amount_minor, captured_minor, refunded_minor, created_at ON orders
    FOR EACH ROW EXECUTE FUNCTION order_totals_keep();

-- Each order's place in the rollups, for filling them in bulk (src/server/db/demo.rs).
CREATE VIEW order_rollup_keys AS
    SELECT rowid AS order_rowid, currency, created_at / 86400000 AS day, utc_month(created_at) AS month, status,
        provider, coalesce(card_brand, '') AS card_brand, coalesce(card_last4, '') AS card_last4,
        coalesce(liability_shifted, -1) AS liability, amount_minor, captured_minor, refunded_minor
    FROM orders;
