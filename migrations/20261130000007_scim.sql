-- SCIM 2.0 provisioning (issue 16 item 4): per-workspace bearer tokens an
-- identity provider (Okta, Microsoft Entra) uses on /scim/v2, and what the
-- provider says about a member that Teamroom does not otherwise keep.

-- A token's secret is shown once; the table keeps its visible prefix and the
-- SHA-256 of the whole secret (>= 256 random bits, as for API keys).
CREATE TABLE scim_tokens (
    workspace_id   bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    name           text        NOT NULL,
    prefix         text        NOT NULL,
    token_hash     bytea       NOT NULL,
    -- The Owner who made it: the actor of every change it makes. The token
    -- works only while this account is still the workspace's Owner.
    created_by     bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    PRIMARY KEY (workspace_id, id),
    CONSTRAINT scim_tokens_name_length CHECK (char_length(name) BETWEEN 1 AND 60),
    CONSTRAINT scim_tokens_prefix_length CHECK (char_length(prefix) BETWEEN 8 AND 20),
    CONSTRAINT scim_tokens_hash_length CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX scim_tokens_by_workspace ON scim_tokens (workspace_id, created_at);
-- Looked up by hash before the workspace is known (the token names it).
CREATE UNIQUE INDEX scim_tokens_hash_key ON scim_tokens (token_hash);
CREATE UNIQUE INDEX scim_tokens_prefix_key ON scim_tokens (prefix);

-- The provider's own id for a member or group, and the User attributes it
-- sends that have no other home. userName defaults to the email.
ALTER TABLE memberships
    ADD COLUMN external_id       text,
    ADD COLUMN scim_user_name    text,
    ADD COLUMN scim_given_name   text,
    ADD COLUMN scim_family_name  text,
    ADD COLUMN scim_formatted_name text,
    ADD CONSTRAINT memberships_scim_lengths CHECK (
        char_length(external_id) <= 256 AND char_length(scim_user_name) <= 256
        AND char_length(scim_given_name) <= 256 AND char_length(scim_family_name) <= 256
        AND char_length(scim_formatted_name) <= 256);
CREATE UNIQUE INDEX memberships_external_id_key ON memberships (workspace_id, external_id)
    WHERE external_id IS NOT NULL;
-- SCIM's `userName eq "..."` lookup (case-insensitive, per RFC 7643).
CREATE INDEX memberships_scim_user_name ON memberships (workspace_id, lower(scim_user_name))
    WHERE scim_user_name IS NOT NULL;

ALTER TABLE groups
    ADD COLUMN external_id text,
    ADD CONSTRAINT groups_external_id_length CHECK (char_length(external_id) <= 256);
CREATE UNIQUE INDEX groups_external_id_key ON groups (workspace_id, external_id)
    WHERE external_id IS NOT NULL;

-- An identity provider may deactivate someone who has not accepted their
-- invitation yet: the invitee is then inactive (link revoked, no seat held)
-- until reactivated, which makes them pending again.
ALTER TABLE memberships DROP CONSTRAINT memberships_identity;
ALTER TABLE memberships ADD CONSTRAINT memberships_identity CHECK (
    (kind = 'limited' AND account_id IS NULL AND display_name IS NOT NULL)
    OR (kind = 'full' AND (account_id IS NOT NULL
                           OR (status IN ('pending', 'inactive') AND invited_email IS NOT NULL)))
);
