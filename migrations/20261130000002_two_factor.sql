-- Two-factor authentication (TOTP, RFC 6238) with recovery codes, and the
-- half-signed-in state between the password and the code.

CREATE TABLE two_factor (
    account_id       bigint      PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- The shared TOTP key (20 random bytes). The server must read it to
    -- check codes, so it cannot be hashed; it never leaves the server after
    -- enrolment.
    secret           bytea       NOT NULL,
    -- NULL while enrolling: on once the first code confirms it.
    enabled_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The last time step a code was accepted for: a code of that step or an
    -- earlier one is refused (RFC 6238 section 5.2, no replay).
    last_used_step   bigint      NOT NULL DEFAULT 0,
    CONSTRAINT two_factor_secret_length CHECK (octet_length(secret) BETWEEN 16 AND 64)
);

-- Single-use recovery codes: SHA-256 of codes with 80 bits of randomness
-- (a slow hash adds nothing at that entropy).
CREATE TABLE recovery_codes (
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    PRIMARY KEY (account_id, code_hash)
);

-- A password proven, the code not yet: the browser holds a random cookie
-- whose hash is here. It opens no page and calls no function but the code
-- form, and ends after five minutes.
CREATE TABLE two_factor_challenges (
    token_hash    bytea       PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    workspace_id  bigint      REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX two_factor_challenges_by_account ON two_factor_challenges (account_id);

-- "Owners and Admins must use two-factor" (set by the Owner).
ALTER TABLE workspaces ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;
