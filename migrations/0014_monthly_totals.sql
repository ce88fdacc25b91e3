-- The history's totals over a long range (src/server/db/order_list.rs): summing every day of `order_totals`
-- (~41,600 rows at 1,000,000 orders over two years) took 10-17 ms on PostgreSQL. `order_totals_monthly` holds
-- the same per UTC month (`month` YYYYMM, as `order_totals_by_amount`), so a range's whole months are a few
-- hundred rows and only the days at its ends are read from `order_totals`. Kept by the same two triggers,
-- recreated here with two more statements (every earlier one as in 0009).

CREATE TABLE order_totals_monthly (
    currency        TEXT NOT NULL,
    month           INTEGER NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    amount_minor    INTEGER NOT NULL,
    captured_minor  INTEGER NOT NULL,
    refunded_minor  INTEGER NOT NULL,
    PRIMARY KEY (currency, month, status, provider, card_brand, liability)
) STRICT, WITHOUT ROWID;

DROP TRIGGER order_totals_on_insert;
DROP TRIGGER order_totals_on_update;

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
    INSERT INTO order_totals_monthly VALUES (NEW.currency,
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
    UPDATE order_totals_monthly SET orders = orders - 1, amount_minor = amount_minor - OLD.amount_minor,
        captured_minor = captured_minor - OLD.captured_minor, refunded_minor = refunded_minor - OLD.refunded_minor
    WHERE currency = OLD.currency AND month = CAST(strftime('%Y%m', OLD.created_at / 1000, 'unixepoch') AS INTEGER)
        AND status = OLD.status AND provider = OLD.provider AND card_brand = coalesce(OLD.card_brand, '')
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
    INSERT INTO order_totals_monthly VALUES (NEW.currency,
        CAST(strftime('%Y%m', NEW.created_at / 1000, 'unixepoch') AS INTEGER), NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT DO UPDATE SET orders = orders + 1, amount_minor = amount_minor + excluded.amount_minor,
        captured_minor = captured_minor + excluded.captured_minor,
        refunded_minor = refunded_minor + excluded.refunded_minor;
END;

INSERT INTO order_totals_monthly
    SELECT currency, month, status, provider, card_brand, liability, count(*), sum(amount_minor),
        sum(captured_minor), sum(refunded_minor)
    FROM order_rollup_keys GROUP BY 1, 2, 3, 4, 5, 6;
