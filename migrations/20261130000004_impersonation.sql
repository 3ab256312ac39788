-- "Log in as user": an Owner views the workspace as one of its members
-- through a separate, short session; the Owner's own session is kept and
-- the person's sessions are untouched. The person is told afterwards in
-- the bell (and by mail).

-- The Owner's switch for the feature, on by default (Enterprise only).
ALTER TABLE workspaces ADD COLUMN allow_impersonation boolean NOT NULL DEFAULT true;

-- An impersonation session belongs to the person viewed as (account_id)
-- and names the Owner behind it, the workspace it is pinned to, the reason
-- given and the Owner's own session to return to (its token hash; the
-- cookie value itself waits in the Owner's browser).
ALTER TABLE sessions
    ADD COLUMN impersonator_account_id    bigint REFERENCES accounts (id) ON DELETE CASCADE,
    ADD COLUMN impersonation_workspace_id bigint REFERENCES workspaces (id) ON DELETE CASCADE,
    ADD COLUMN impersonation_reason       text,
    ADD COLUMN return_token_hash          bytea,
    ADD CONSTRAINT sessions_impersonation CHECK (
        (impersonator_account_id IS NULL AND impersonation_workspace_id IS NULL
         AND impersonation_reason IS NULL AND return_token_hash IS NULL)
        OR (impersonator_account_id IS NOT NULL AND impersonation_workspace_id IS NOT NULL
            AND return_token_hash IS NOT NULL)),
    ADD CONSTRAINT sessions_impersonation_reason_length CHECK (char_length(impersonation_reason) <= 500);
-- The sweeper ends impersonations first (audit and notice), so none ends silently.
CREATE INDEX sessions_impersonations ON sessions (expires_at) WHERE impersonator_account_id IS NOT NULL;

-- Whether an impersonation session may still be used: its Owner is still
-- the Owner (and an active member) of an Enterprise workspace that allows
-- it, the person is still an active member there, and the Owner's own
-- session is still alive (ending the Owner's sessions ends the views too).
-- Checked on every request, as part of loading the session.
CREATE FUNCTION teamroom_impersonation_allowed(workspace bigint, impersonator bigint, subject bigint,
                                               return_hash bytea) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT impersonator <> subject AND EXISTS (
        SELECT 1 FROM workspaces w
          JOIN memberships o ON o.workspace_id = w.id AND o.account_id = impersonator AND o.status = 'active'
          JOIN memberships m ON m.workspace_id = w.id AND m.account_id = subject AND m.status = 'active'
         WHERE w.id = workspace AND w.owner_account_id = impersonator
           AND w.allow_impersonation AND w.plan = 'enterprise')
       AND EXISTS (
        SELECT 1 FROM sessions p
         WHERE p.token_hash = return_hash AND p.account_id = impersonator
           AND p.impersonator_account_id IS NULL AND p.expires_at > now())
$$;

-- Items in a person's bell that are not invitations ("Olivia viewed
-- Teamroom as you"). Dismissed ones are kept as read.
CREATE TABLE account_notices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    workspace_id  bigint      REFERENCES workspaces (id) ON DELETE CASCADE,
    kind          text        NOT NULL,
    body          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    read_at       timestamptz,
    CONSTRAINT account_notices_kind CHECK (kind IN ('impersonation')),
    CONSTRAINT account_notices_body_length CHECK (char_length(body) BETWEEN 1 AND 2000)
);
CREATE INDEX account_notices_unread ON account_notices (account_id, id DESC) WHERE read_at IS NULL;
