-- The Owner's Accounts tab (seed 000): set a person's password (seed 003),
-- which they must change at their next sign-in, after the Owner has
-- re-entered their own password in the last few minutes.

ALTER TABLE accounts
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- When this session's person last re-entered their own password for an
-- account-wide action on someone else (set password).
ALTER TABLE sessions
    ADD COLUMN reauthenticated_at timestamptz;

-- A reset opened by signing in with a password the Owner set, rather than
-- by a mailed link: it proves the password, not the mailbox.
ALTER TABLE password_resets
    ADD COLUMN set_by_owner boolean NOT NULL DEFAULT false;
