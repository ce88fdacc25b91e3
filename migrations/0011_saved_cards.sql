-- Saved cards (issue 10): the acquirer's reuse token kept against the shopper's email, never the card. The
-- card columns take the CHECKs of 0001 (brand, BIN and last four only); the token is a secret (never logged,
-- shown to the merchant by its last four at most) and may not look like a card number.
CREATE TABLE saved_cards (
    id                TEXT PRIMARY KEY,                       -- UUID
    email             TEXT NOT NULL,                          -- lower-cased
    provider          TEXT NOT NULL CHECK (provider IN ('verifone')),
    -- A reuse token may be all digits (Verifone's sandbox issues 16 starting with 9); one that could be a card
    -- number (all digits, 12 to 19 of them, starting with a card network's digit) is refused.
    reuse_token       TEXT NOT NULL UNIQUE CHECK (length(reuse_token) BETWEEN 14 AND 255
                          AND NOT (length(reuse_token) BETWEEN 12 AND 19 AND reuse_token GLOB '[1-6]*'
                                   AND reuse_token NOT GLOB '*[^0-9]*')),
    card_brand        TEXT NOT NULL CHECK (card_brand IN ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER', 'JCB')),
    card_bin6         TEXT CHECK (length(card_bin6) = 6 AND card_bin6 NOT GLOB '*[^0-9]*'),
    card_last4        TEXT NOT NULL CHECK (length(card_last4) = 4 AND card_last4 NOT GLOB '*[^0-9]*'),
    card_expiry_month INTEGER NOT NULL CHECK (card_expiry_month BETWEEN 1 AND 12),
    card_expiry_year  INTEGER NOT NULL CHECK (card_expiry_year BETWEEN 2000 AND 2099),
    -- The scheme's reference of the payment that stored the card: later merchant-initiated charges name it.
    scheme_reference  TEXT CHECK (scheme_reference IS NULL OR length(scheme_reference) <= 128),
    first_order_id    TEXT NOT NULL REFERENCES orders (id),
    created_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX saved_cards_by_email ON saved_cards (email, created_at);

-- How an order uses a stored credential: it asks to store the card (signup), pays with a saved card while
-- the shopper is there (customer), or is charged by the merchant later (merchant, linked to its original).
-- No foreign key to saved_cards: a deleted card leaves the history of the orders that used it.
CREATE TABLE order_credentials (
    order_id        TEXT PRIMARY KEY REFERENCES orders (id),
    initiator       TEXT NOT NULL CHECK (initiator IN ('signup', 'customer', 'merchant')),
    card_id         TEXT,
    parent_order_id TEXT REFERENCES orders (id),
    description     TEXT CHECK (description IS NULL OR length(description) <= 200),
    CHECK ((initiator = 'signup') = (card_id IS NULL)),
    CHECK ((initiator = 'merchant') = (parent_order_id IS NOT NULL))
) STRICT;

CREATE INDEX order_credentials_by_parent ON order_credentials (parent_order_id) WHERE parent_order_id IS NOT NULL;

-- One-time codes that confirm a shopper's email: kept hashed, short-lived, a few tries each. Sends are
-- counted per email and per client address from these rows.
CREATE TABLE shopper_codes (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,
    address     TEXT NOT NULL,
    code_hash   TEXT NOT NULL CHECK (length(code_hash) = 64),
    tries       INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX shopper_codes_by_email ON shopper_codes (email, created_at);
CREATE INDEX shopper_codes_by_address ON shopper_codes (address, created_at);

-- A confirmed email's short session: the cookie's token, kept hashed.
CREATE TABLE shopper_sessions (
    token_hash  TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    email       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
