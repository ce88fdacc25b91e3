-- The fingerprint of each day's sealing key (server/db/sealed.rs): HMAC(K(day), "fingerprint"), never the key.
-- Every instance on one database must seal with the same keys; one whose fingerprint for today differs from
-- the one recorded refuses to start. Only the last days' are kept.
CREATE TABLE seal_keys (
    day         INTEGER NOT NULL PRIMARY KEY,  -- Unix day (UTC)
    fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64)
) STRICT;
