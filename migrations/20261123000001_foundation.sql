-- Foundation: accounts, workspaces, memberships, sessions, audit events.
-- Tenant tables lead their keys and indexes with workspace_id so every
-- per-workspace query stays on an index and the data can be sharded by it.

CREATE TABLE accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email            text        NOT NULL,
    display_name     text        NOT NULL,
    -- argon2id PHC string; NULL for an account that has no password yet.
    password_hash    text,
    failed_sign_ins  integer     NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz,
    CONSTRAINT accounts_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT accounts_name_length CHECK (char_length(display_name) BETWEEN 1 AND 100)
);
-- Email is unique compared case-insensitively.
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE workspaces (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text        NOT NULL,
    plan              text        NOT NULL DEFAULT 'free',
    seats             integer     NOT NULL DEFAULT 0,
    subdomain         text,
    -- Exactly one owner at all times, by construction.
    owner_account_id  bigint      NOT NULL REFERENCES accounts (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_plan CHECK (plan IN ('free', 'pro', 'enterprise')),
    CONSTRAINT workspaces_seats CHECK (seats >= 0),
    CONSTRAINT workspaces_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX workspaces_subdomain_key ON workspaces (lower(subdomain)) WHERE subdomain IS NOT NULL;
CREATE INDEX workspaces_owner ON workspaces (owner_account_id);

CREATE TABLE memberships (
    workspace_id        bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    -- NULL for limited members: a name only, no login.
    account_id          bigint      REFERENCES accounts (id),
    kind                text        NOT NULL DEFAULT 'full',
    status              text        NOT NULL DEFAULT 'active',
    is_admin            boolean     NOT NULL DEFAULT false,
    is_project_manager  boolean     NOT NULL DEFAULT false,
    is_team_manager     boolean     NOT NULL DEFAULT false,
    -- Limited members' name; full members show their account's name.
    display_name        text,
    -- Address an invitation went to, while no account has accepted it.
    invited_email       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_active_at      timestamptz,
    PRIMARY KEY (workspace_id, id),
    CONSTRAINT memberships_kind CHECK (kind IN ('full', 'limited')),
    CONSTRAINT memberships_status CHECK (status IN ('pending', 'active', 'inactive')),
    -- Limited members have a name and no account; full members have an
    -- account, or are pending on an invited address.
    CONSTRAINT memberships_identity CHECK (
        (kind = 'limited' AND account_id IS NULL AND display_name IS NOT NULL)
        OR (kind = 'full' AND (account_id IS NOT NULL
                               OR (status = 'pending' AND invited_email IS NOT NULL)))
    )
);
CREATE UNIQUE INDEX memberships_account_key ON memberships (workspace_id, account_id) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX memberships_invited_email_key ON memberships (workspace_id, lower(invited_email))
    WHERE account_id IS NULL AND invited_email IS NOT NULL;
-- "Which workspaces is this account in" (switcher, sign-in landing).
CREATE INDEX memberships_by_account ON memberships (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE sessions (
    -- SHA-256 of the random cookie value; the value itself is never stored.
    token_hash           bytea       PRIMARY KEY,
    account_id           bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    active_workspace_id  bigint      REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_seen_at         timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,
    ip                   text,
    user_agent           text
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit_events (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for account-level events (sign-up, sign-in) outside a workspace.
    workspace_id           bigint      REFERENCES workspaces (id) ON DELETE CASCADE,
    occurred_at            timestamptz NOT NULL DEFAULT now(),
    actor_account_id       bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    -- Set while an owner acts as another user (impersonation).
    acting_as_account_id   bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    action                 text        NOT NULL,
    target_account_id      bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    target_membership_id   bigint,
    details                jsonb       NOT NULL DEFAULT '{}'::jsonb,
    ip                     text,
    user_agent             text
);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, id DESC);
CREATE INDEX audit_events_by_actor ON audit_events (actor_account_id, id DESC);
