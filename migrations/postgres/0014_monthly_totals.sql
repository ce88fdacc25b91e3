-- The history's totals over a long range, per UTC month (SQLite 0014): kept by the same trigger function,
-- replaced here with two more statements (every earlier one as in 0009).
CREATE TABLE order_totals_monthly (
    currency        TEXT NOT NULL,
    month           BIGINT NOT NULL,
    status          TEXT NOT NULL,
    provider        TEXT NOT NULL,
    card_brand      TEXT NOT NULL,
    liability       BIGINT NOT NULL,
    orders          BIGINT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    captured_minor  BIGINT NOT NULL,
    refunded_minor  BIGINT NOT NULL,
    PRIMARY KEY (currency, month, status, provider, card_brand, liability)
);

CREATE OR REPLACE FUNCTION order_totals_keep() RETURNS trigger LANGUAGE plpgsql AS $$
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
        UPDATE order_totals_monthly t SET orders = t.orders - 1, amount_minor = t.amount_minor - OLD.amount_minor,
            captured_minor = t.captured_minor - OLD.captured_minor,
            refunded_minor = t.refunded_minor - OLD.refunded_minor
        WHERE t.currency = OLD.currency AND t.month = utc_month(OLD.created_at) AND t.status = OLD.status
            AND t.provider = OLD.provider AND t.card_brand = coalesce(OLD.card_brand, '')
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
    INSERT INTO order_totals_monthly AS t VALUES (NEW.currency, utc_month(NEW.created_at), NEW.status, NEW.provider,
        coalesce(NEW.card_brand, ''), coalesce(NEW.liability_shifted, -1), 1, NEW.amount_minor, NEW.captured_minor,
        NEW.refunded_minor)
    ON CONFLICT (currency, month, status, provider, card_brand, liability) DO UPDATE SET orders = t.orders + 1,
        amount_minor = t.amount_minor + excluded.amount_minor,
        captured_minor = t.captured_minor + excluded.captured_minor,
        refunded_minor = t.refunded_minor + excluded.refunded_minor;
    RETURN NULL;
END
$$;

INSERT INTO order_totals_monthly
    SELECT currency, month, status, provider, card_brand, liability, count(*), sum(amount_minor),
        sum(captured_minor), sum(refunded_minor)
    FROM order_rollup_keys GROUP BY 1, 2, 3, 4, 5, 6;
