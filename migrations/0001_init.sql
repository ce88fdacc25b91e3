-- Orders, payment attempts, 3-D Secure results and an append-only event log.
-- Card columns hold at most the brand, first six and last four digits and the expiry; the CHECKs make
-- it impossible to store a full card number in them. There is no column for a CVV.

CREATE TABLE orders (
    id                  TEXT PRIMARY KEY,                 -- UUID
    merchant_reference  TEXT NOT NULL UNIQUE,
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    captured_minor      INTEGER NOT NULL DEFAULT 0 CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
    refunded_minor      INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= captured_minor),
    email               TEXT NOT NULL,
    billing_first_name  TEXT NOT NULL,
    billing_last_name   TEXT NOT NULL,
    billing_address_1   TEXT NOT NULL,
    billing_city        TEXT NOT NULL,
    billing_country     TEXT NOT NULL CHECK (length(billing_country) = 2),
    card_brand          TEXT CHECK (card_brand IN ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER', 'JCB')),
    card_bin6           TEXT CHECK (length(card_bin6) = 6 AND card_bin6 NOT GLOB '*[^0-9]*'),
    card_last4          TEXT CHECK (length(card_last4) = 4 AND card_last4 NOT GLOB '*[^0-9]*'),
    card_expiry_month   INTEGER CHECK (card_expiry_month BETWEEN 1 AND 12),
    card_expiry_year    INTEGER CHECK (card_expiry_year BETWEEN 2000 AND 2099),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'authenticating', 'authorizing', 'unknown',
                            'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'declined',
                            'failed', 'expired')),
    provider            TEXT NOT NULL CHECK (provider IN ('verifone', 'bambora')),
    capture_mode        TEXT NOT NULL CHECK (capture_mode IN ('sale', 'pre_auth')),
    liability_shifted   INTEGER CHECK (liability_shifted IN (0, 1)),  -- NULL until 3-D Secure has a result
    created_at          INTEGER NOT NULL,                 -- Unix milliseconds, UTC
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (status, created_at DESC);
CREATE INDEX orders_by_email ON orders (email);
CREATE INDEX orders_by_last4 ON orders (card_last4);

-- One row per call that can move money: authorize (sale or pre-auth), capture, refund, void.
CREATE TABLE payment_attempts (
    id                       TEXT PRIMARY KEY,            -- UUID
    order_id                 TEXT NOT NULL REFERENCES orders (id),
    kind                     TEXT NOT NULL CHECK (kind IN ('authorize', 'capture', 'refund', 'void')),
    idempotency_key          TEXT NOT NULL UNIQUE,        -- sent to the provider; a retry reuses it
    amount_minor             INTEGER NOT NULL CHECK (amount_minor >= 0),
    status                   TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'failed', 'unknown')),
    provider_transaction_id  TEXT,
    provider_status          TEXT,
    reason_code              TEXT,
    message                  TEXT,
    resume_token             TEXT,                        -- opaque, owned by the provider client (redirect flows)
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL
) STRICT;

CREATE INDEX payment_attempts_by_order ON payment_attempts (order_id, created_at);
-- At most one authorization per order that is live or may have gone through: never charge twice.
CREATE UNIQUE INDEX one_authorization_per_order ON payment_attempts (order_id)
    WHERE kind = 'authorize' AND status IN ('pending', 'succeeded', 'unknown');

-- Each 3-D Secure answer: the lookup, the challenge's validated result, or a provider's own 3DS block.
-- The CAVV itself is not kept (it is only needed for the payment call that follows it at once).
CREATE TABLE threeds_results (
    id                      INTEGER PRIMARY KEY,
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
    cavv_present            INTEGER NOT NULL CHECK (cavv_present IN (0, 1)),
    challenge_required      TEXT CHECK (challenge_required IN ('Y', 'N')),
    status_reason           TEXT,
    action_code             TEXT,
    error_no                TEXT,
    error_desc              TEXT,
    liability_shifted       INTEGER NOT NULL CHECK (liability_shifted IN (0, 1)),
    created_at              INTEGER NOT NULL
) STRICT;

CREATE INDEX threeds_results_by_order ON threeds_results (order_id, id);

-- What happened to an order, in order. Rows are never changed or removed.
CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    kind        TEXT NOT NULL,
    details     TEXT NOT NULL CHECK (json_valid(details)),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX order_events_by_order ON order_events (order_id, id);

CREATE TRIGGER order_events_are_append_only_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;

CREATE TRIGGER order_events_are_append_only_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only');
END;
