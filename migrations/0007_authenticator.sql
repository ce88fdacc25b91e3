-- Who ran 3-D Secure for an order, next to who moves its money (`provider`, the acquirer): Verifone's 3DS
-- service, for a Verifone payment or a Bambora one ("own process"); none when the acquirer authenticates
-- inside its own payment call. Every order before this column was authenticated by Verifone.
ALTER TABLE orders ADD COLUMN authenticator TEXT CHECK (authenticator IN ('verifone'));
UPDATE orders SET authenticator = 'verifone' WHERE provider = 'verifone';
