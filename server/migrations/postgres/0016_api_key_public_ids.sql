-- Neon's API names keys by number (`DELETE /api_keys/{key_id}` with an integer id, which
-- neonctl checks is a safe JavaScript integer): each key gets a random public number in
-- 1..2^52. The default also numbers keys an older binary inserts during a rolling upgrade.
ALTER TABLE api_keys
    ADD COLUMN public_id BIGINT NOT NULL DEFAULT (floor(random() * 4503599627370495)::BIGINT + 1);
CREATE UNIQUE INDEX api_keys_public_id_key ON api_keys (public_id);

-- Where a key was last used from (the client address, as the front door determines it).
ALTER TABLE api_keys ADD COLUMN last_used_from_addr TEXT NOT NULL DEFAULT '';
