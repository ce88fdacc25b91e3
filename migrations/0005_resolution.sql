-- Who is resolving an order whose provider answer was lost (the receipt page, the sweeper and a notification
-- may all try at once): one resolver holds the lease until `resolving_until` (Unix ms); only it asks the
-- provider and records the answer. An expired lease (a resolver that crashed) may be taken by the next one.
ALTER TABLE orders ADD COLUMN resolving_until INTEGER;
ALTER TABLE orders ADD COLUMN resolver TEXT;
