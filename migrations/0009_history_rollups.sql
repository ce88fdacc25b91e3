-- The history's totals at a million orders (src/server/db/order_list.rs). The monthly rollup of 0003 left
-- the partial months at the ends of a date range to be summed from the orders, and a search by last four
-- or an amount range to be summed from up to every order. Three rollups, kept by the same two triggers in
-- the same transaction as the order itself, replace it:
--   order_totals            per UTC day and per value of every filter but amount and search;
--   order_totals_by_last4   the same per last four digits, for a search by them;
--   order_totals_by_amount  per UTC month and per exact amount, for an amount range.
-- `day` is the Unix day of created_at (created_at / 86400000), `month` its YYYYMM; `card_brand` and
-- `card_last4` are '' without a card; `liability` is -1 before 3-D Secure. Rows whose count has dropped
-- to zero stay (an order can come back to them) and are not shown.

DROP TRIGGER order_totals_on_insert;
DROP TRIGGER order_totals_on_update;
DROP TABLE order_totals;

CREATE TABLE order_totals (
    currency        TEXT NOT NULL,
    day             INTEGER NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL,
    captured_minor  INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    PRIMARY KEY (currency, day, status, provider, card_brand, liability)
) STRICT, WITHOUT ROWID;

CREATE TABLE order_totals_by_last4 (
    card_last4      TEXT NOT NULL,
    currency        TEXT NOT NULL,
    day             INTEGER NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL,
    captured_minor  INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    PRIMARY KEY (card_last4, currency, day, status, provider, card_brand, liability)
) STRICT, WITHOUT ROWID;

CREATE TABLE order_totals_by_amount (
    currency        TEXT NOT NULL,
    amount          INTEGER NOT NULL,            -- the order's amount (minor units)
    month           INTEGER NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL,
    captured_minor  INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    PRIMARY KEY (currency, amount, month, status, provider, card_brand, liability)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER order_totals_on_insert AFTER INSERT ON orders
BEGIN
    INSERT INTO order_totals VALUES (NEW.currency, NEW.created_at / 86400000, NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_last4 VALUES (coalesce(NEW.card_last4, ''), NEW.currency, NEW.created_at / 86400000,
        NEW.status, NEW.provider, coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1,
        NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_amount VALUES (NEW.currency, NEW.amount_minor,
        CAST(strftime('%Y%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER), NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

CREATE TRIGGER order_totals_on_update AFTER UPDATE OF currency, status, provider, card_brand, card_last4,
    liability_shifted, amount_minor, captured_minor, refunded_minor, created_at ON orders
BEGIN
    UPDATE order_totals SET orders = orders - 1, amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor, refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE currency = OLD.currency AND day = OLD.created_at / 86400000 AND status = OLD.status
        AND provider = OLD.provider AND card_brand = coalesce(OLD.card_brand, '')
        AND liability = coalesce(OLD.liability_shifted, -1);
    UPDATE order_totals_by_last4 SET orders = orders - 1, amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor, refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE card_last4 = coalesce(OLD.card_last4, '') AND currency = OLD.currency AND day = OLD.created_at / 86400000
        AND status = OLD.status AND provider = OLD.provider AND card_brand = coalesce(OLD.card_brand, '')
        AND liability = coalesce(OLD.liability_shifted, -1);
    UPDATE order_totals_by_amount SET orders = orders - 1, amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor, refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE currency = OLD.currency AND amount = OLD.amount_minor
        AND month = CAST(strftime('%Y%m', OLD.created_at / 1000, 'unixepoch') AS INTEGER) AND status = OLD.status
        AND provider = OLD.provider AND card_brand = coalesce(OLD.card_brand, '')
        AND liability = coalesce(OLD.liability_shifted, -1);
    INSERT INTO order_totals VALUES (NEW.currency, NEW.created_at / 86400000, NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_last4 VALUES (coalesce(NEW.card_last4, ''), NEW.currency, NEW.created_at / 86400000,
        NEW.status, NEW.provider, coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1,
        NEW.amount_minor, NEW.captured_minor, NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
    INSERT INTO order_totals_by_amount VALUES (NEW.currency, NEW.amount_minor,
        CAST(strftime('%Y%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER), NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

-- Each order's place in the rollups (the triggers above say the same of NEW and OLD), for filling them in
-- bulk: here, and for the orders the demo seeder loads (src/server/db/demo.rs).
CREATE VIEW order_rollup_keys AS
    SELECT rowid AS order_rowid, currency, created_at / 86400000 AS day,
        CAST(strftime('%Y%m', created_at / 1000, 'unixepoch') AS INTEGER) AS month, status, provider,
        coalesce(card_brand, '') AS card_brand, coalesce(card_last4, '') AS card_last4,
        coalesce(liability_shifted, -1) AS liability, amount_minor, captured_minor, refunded_minor
    FROM orders;

INSERT INTO order_totals
    SELECT currency, day, status, provider, card_brand, liability, count(*), sum(amount_minor), sum(captured_minor),
        sum(refunded_minor)
    FROM order_rollup_keys GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO order_totals_by_last4
    SELECT card_last4, currency, day, status, provider, card_brand, liability, count(*), sum(amount_minor),
        sum(captured_minor), sum(refunded_minor)
    FROM order_rollup_keys GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO order_totals_by_amount
    SELECT currency, amount_minor, month, status, provider, card_brand, liability, count(*), sum(amount_minor),
        sum(captured_minor), sum(refunded_minor)
    FROM order_rollup_keys GROUP BY 1, 2, 3, 4, 5, 6, 7;
