-- The twin of migrations/0012_seal_keys.sql (read it for why the table is there).
CREATE TABLE seal_keys (
    day         BIGINT NOT NULL PRIMARY KEY,
    fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64)
);
