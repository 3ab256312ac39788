-- Changing one's email address: the new address confirms with a link
-- (only its SHA-256 is kept); the old address is told once it is done.
CREATE TABLE email_changes (
    token_hash  bytea       PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    new_email   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_changes_by_account ON email_changes (account_id);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind
    CHECK (kind IN ('invitation', 'verify_email', 'email_change', 'email_changed_notice'));
