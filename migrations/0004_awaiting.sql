-- What an order waiting for the shopper (a 3-D Secure challenge) resumes with: JSON owned by the checkout
-- service, holding the challenge given to the shopper and the provider-encrypted card the lookup authenticated
-- (the only card the payment after the challenge may use). It is taken in the write transaction that resumes
-- the order, so the order resumes once, and cleared whenever the order's status moves on.
ALTER TABLE orders ADD COLUMN awaiting TEXT CHECK (awaiting IS NULL OR json_valid(awaiting));
