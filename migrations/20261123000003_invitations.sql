-- Invitations, email verification and the mail outbox.

-- An address is verified once its owner clicked a link mailed to it
-- (sign-up verification or an invitation). Invitations are only offered in
-- the bell to verified addresses, so typing someone else's address at
-- sign-up cannot claim their invitation.
ALTER TABLE accounts ADD COLUMN email_verified_at timestamptz;
-- Accounts that exist before this migration were created by the seeders
-- and the first sign-ups; treat them as verified rather than lock them out.
UPDATE accounts SET email_verified_at = created_at;

-- One row per link mailed. The link's token is 256 random bits; only its
-- SHA-256 is kept. A resend replaces the open row with a new one, so an
-- old link says "replaced"; revoking keeps the row (the membership goes)
-- so the link can say "revoked" instead of "not found".
CREATE TABLE invitations (
    workspace_id           bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                     bigint GENERATED ALWAYS AS IDENTITY,
    membership_id          bigint,
    token_hash             bytea       NOT NULL,
    email                  text        NOT NULL,
    invited_by_account_id  bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    expires_at             timestamptz NOT NULL,
    state                  text        NOT NULL DEFAULT 'open',
    ended_at               timestamptz,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, membership_id) REFERENCES memberships (workspace_id, id)
        ON DELETE SET NULL (membership_id),
    CONSTRAINT invitations_state CHECK (state IN ('open', 'accepted', 'declined', 'revoked', 'replaced')),
    CONSTRAINT invitations_token_length CHECK (octet_length(token_hash) = 32)
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
-- At most one live link per pending member.
CREATE UNIQUE INDEX invitations_open_per_member ON invitations (workspace_id, membership_id)
    WHERE state = 'open' AND membership_id IS NOT NULL;
-- A pending member's latest invitation (the Team list's "sent / expired").
CREATE INDEX invitations_by_member ON invitations (workspace_id, membership_id, id);
-- The hourly rate limit counts a workspace's recent invitations.
CREATE INDEX invitations_recent ON invitations (workspace_id, created_at);
-- The bell: open invitations to a verified address.
CREATE INDEX invitations_open_by_email ON invitations (lower(email)) WHERE state = 'open';

CREATE TABLE email_verifications (
    token_hash  bytea       PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT email_verifications_token_length CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX email_verifications_by_account ON email_verifications (account_id);

-- Mail to send, written in the same transaction as the change that causes
-- it. Workers claim due rows with FOR UPDATE SKIP LOCKED, send over SMTP
-- while holding the row, then mark it sent, so several server processes
-- can run side by side without sending a message twice. The bodies hold a
-- live link, so they are erased once the message has left.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     bigint      REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The pending member the message is about, so a resend or revoke can
    -- cancel a message that has not left yet.
    membership_id    bigint,
    kind             text        NOT NULL,
    recipient        text        NOT NULL,
    subject          text        NOT NULL,
    body_text        text,
    body_html        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    cancelled_at     timestamptz,
    last_error       text,
    CONSTRAINT outbox_kind CHECK (kind IN ('invitation', 'verify_email'))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX outbox_by_membership ON outbox (workspace_id, membership_id)
    WHERE sent_at IS NULL AND cancelled_at IS NULL AND membership_id IS NOT NULL;
