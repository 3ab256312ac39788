-- Workspace API keys (issue 15 item 3). A key belongs to one membership and
-- acts in that workspace only. The secret is shown once; the table keeps its
-- visible prefix and the SHA-256 of the whole secret (>= 256 random bits, so
-- a fast hash is right, as for session tokens).

CREATE TABLE api_keys (
    workspace_id           bigint      NOT NULL,
    id                     bigint GENERATED ALWAYS AS IDENTITY,
    membership_id          bigint      NOT NULL,
    name                   text        NOT NULL,
    -- "trk_" plus the id part: shown in lists so people can tell keys apart.
    prefix                 text        NOT NULL,
    key_hash               bytea       NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    last_used_at           timestamptz,
    expires_at             timestamptz,
    revoked_at             timestamptz,
    revoked_by_account_id  bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    PRIMARY KEY (workspace_id, id),
    -- Deleting a member deletes their keys with them.
    FOREIGN KEY (workspace_id, membership_id)
        REFERENCES memberships (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 60),
    CONSTRAINT api_keys_prefix_length CHECK (char_length(prefix) BETWEEN 8 AND 20),
    CONSTRAINT api_keys_hash_length CHECK (octet_length(key_hash) = 32)
);

-- "My keys", "revoke all of this member's live keys", the live-key count.
CREATE INDEX api_keys_by_membership ON api_keys (workspace_id, membership_id, created_at);
-- The lookup on every API request is by hash, before any workspace is
-- known (the key is what names it), so these two cannot lead with
-- workspace_id; on a sharded database they would live in a small
-- reference table. Unique: one secret, one key; one prefix, one key.
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
