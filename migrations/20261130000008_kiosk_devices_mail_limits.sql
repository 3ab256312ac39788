-- Kiosk devices an admin can see and end, with a sliding lifetime; and the
-- invitation resend cool-down kept per address (it survives revoke and
-- re-invite). The per-account and per-recipient mail limits and the daily
-- workspace cap count in `rate_windows` and need no table of their own.

-- What the Settings list shows about a device, and how it ended.
ALTER TABLE kiosks
    ADD COLUMN user_agent  text,
    ADD COLUMN ended_by    bigint REFERENCES accounts (id) ON DELETE SET NULL,
    ADD COLUMN end_reason  text,
    ADD CONSTRAINT kiosks_user_agent_length CHECK (char_length(user_agent) <= 500),
    ADD CONSTRAINT kiosks_end_reason
        CHECK (end_reason IN ('exited', 'ended_by_admin', 'launcher_lost_role', 'unused'));

-- The Settings list: a workspace's live devices.
CREATE INDEX kiosks_live ON kiosks (workspace_id, created_at) WHERE ended_at IS NULL;

-- Whether `account` may still launch the Kiosk in `workspace`: an active
-- member who is its Owner, an Admin or a Project manager (the LaunchKiosk
-- row of the permission matrix). A device lives only while its launcher
-- may; checked each time the device is used and when the list is read.
CREATE FUNCTION teamroom_kiosk_launcher_may(workspace bigint, account bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT m.status = 'active'
               AND (w.owner_account_id = m.account_id OR m.is_admin OR m.is_project_manager)
          FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
         WHERE m.workspace_id = workspace AND m.account_id = account
    ), false)
$$;

-- The resend cool-down looks up the last invitation to an address from a
-- workspace, whichever pending member (since revoked) it went to.
CREATE INDEX invitations_by_address ON invitations (workspace_id, lower(email), created_at);
